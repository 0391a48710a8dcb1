"""Engine and session factories; nothing here runs at import time.

SQLite (the embedded default) runs in WAL mode with ``synchronous=NORMAL`` (readers never
block the writer nor wait for it; a commit is durable against a process crash, and a power
cut can lose at most the last commits, never corrupt the file), foreign keys on and a
``busy_timeout``. Two kinds of session share one engine and one pool:

* :func:`make_session_factory` — a **writer**: every transaction opens with
  ``BEGIN IMMEDIATE``, so writers queue for SQLite's single write lock up front (up to the
  busy timeout) instead of failing with "database is locked" half-way through; this keeps
  the audit chain's read-head-then-append step race-free. Workers, the CLI and every
  request that may write (including audited reads) use it.
* :func:`read_session` — a **reader**: a plain deferred ``BEGIN``, a snapshot that takes no
  lock, for requests that only read (``READ_ONLY_ROUTES`` in :mod:`hub.api.deps`). Under
  WAL any number of them run beside the one writer. A reader that does write after all (a
  refusal's audit event) upgrades its transaction; SQLite refuses that upgrade at once when
  another writer holds or has moved the database since the snapshot, and the request is
  then answered 503 with ``Retry-After`` (:mod:`hub.api.errors`) — never a forked chain.

Why not "deferred always, upgrade on first write": the upgrade fails without waiting
whenever another writer is active, so under load every write would race; why not
"immediate always" (the old behaviour): every GET queued on the write lock (issue 20).

On PostgreSQL the begin events are not installed; the chain head row is locked with
``SELECT … FOR UPDATE`` instead (:mod:`hub.persistence.audit`). Pool sizes and the
checkout timeout come from the hub settings (``db_pool_size``, ``db_max_overflow``,
``db_pool_timeout_seconds``; docs/operations.md).
"""

from __future__ import annotations

import contextlib
import sqlite3
import weakref
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from hub.db.faults import reopen_after_store_fault

if TYPE_CHECKING:
    from hub.settings import HubSettings

CONNECT_TIMEOUT = 10
#: How long a SQLite writer waits for the write lock before "database is locked" (ms);
#: pysqlite's ``timeout`` connect argument sets SQLite's busy_timeout.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Execution option that makes a SQLite transaction begin deferred (a reader).
_DEFERRED = "fedlink_deferred"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///…`` or ``postgresql+psycopg://…``); ``kwargs``
    go to :func:`sqlalchemy.create_engine` (e.g. ``pool_size``, ``pool_timeout``)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                        "check_same_thread": False, **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        reopen_after_store_fault(engine)
        return engine
    # A server that does not answer is reported after CONNECT_TIMEOUT s, not the OS's minutes.
    connect_args = {"connect_timeout": CONNECT_TIMEOUT, **kwargs.pop("connect_args", {})}
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    reopen_after_store_fault(engine)  # a session begun read-only stays so (hub.db.faults)
    return engine


def engine_for(settings: HubSettings) -> Engine:
    """The engine of a serving hub: its database URL with the pool sized by the settings."""
    return make_engine(settings.database_url, pool_size=settings.db_pool_size,
                       max_overflow=settings.db_max_overflow,
                       pool_timeout=settings.db_pool_timeout_seconds)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        _sqlite_setup(cursor)
    except sqlite3.Error:
        # SQLAlchemy does not close a connection whose connect hook failed, and SQLite
        # keeps a connection open while a statement of it is alive (the traceback holds
        # the cursor). Left open it would keep the process's view of the file — a WAL index
        # opened read-only on a read-only file system — and every new connection would
        # fail the same way after the file system is writable again.
        cursor.close()
        dbapi_connection.close()
        raise
    cursor.close()


def _sqlite_setup(cursor: Any) -> None:
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL is a property of the file (it sticks once set, so only the first connection
    # switches it). A read-only file cannot switch and keeps its mode: it still answers
    # reads, and /ready and the 503 handler report the writes it refuses.
    mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    if mode not in ("wal", "memory"):
        with contextlib.suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(_DEFERRED):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Writer sessions (``BEGIN IMMEDIATE`` on SQLite): the default for all code."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def is_reader(session: Session) -> bool:
    """True for a session made by :func:`read_session` (deferred ``BEGIN`` on SQLite)."""
    return bool(session.get_bind().get_execution_options().get(_DEFERRED))


def read_session(factory: sessionmaker[Session]) -> Session:
    """A reader session from ``factory``: same pool, deferred ``BEGIN`` on SQLite (see the
    module docstring); for requests that only read."""
    engine = factory.kw["bind"]
    # One reader view per engine: building it (OptionEngine) on every request was ~5 % of
    # a read's CPU under load (issue 20, profiled).
    reader = _READERS.get(engine)
    if reader is None:
        reader = _READERS[engine] = engine.execution_options(**{_DEFERRED: True})
    return factory(bind=reader)


_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
