"""Engine and sessions for the node store.

SQLite (a file under the node directory) is the default; PostgreSQL (``postgresql://`` or
``postgresql+psycopg://``) is supported and tested; the schema is brought to the newest
Alembic revision whenever the store is opened (:mod:`agency_node.store.migrate`). A store
that cannot be reached becomes one :class:`~agency_node.errors.ConfigError` sentence naming
the URL (password hidden) and what to check — never a driver traceback.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from agency_node.errors import ConfigError
from agency_node.store.faults import reopen_after_store_fault
from agency_node.store.migrate import upgrade_to_head

#: Seconds to wait for a PostgreSQL server before saying it cannot be reached.
CONNECT_TIMEOUT = 10


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the service read records while an ingest or an audit append writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
    except sqlite3.Error:
        # SQLAlchemy does not close a connection whose connect hook failed; left open (its
        # statement lives in the traceback) it would keep a read-only view of the file.
        cursor.close()
        dbapi_connection.close()
        raise
    cursor.close()


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 (the driver fedlink ships), not psycopg2."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def safe_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def describe_db_error(exc: BaseException) -> str:
    """The first line of the driver's message (``connection refused`` …), without SQL."""
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return first[:300]


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """An engine for ``url`` whose schema is at the newest revision."""
    url = normalise_url(url)
    kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        kwargs = {"pool_pre_ping": True, "connect_args": {"connect_timeout": CONNECT_TIMEOUT}}
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise ConfigError(f"store url is not usable: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    reopen_after_store_fault(engine)
    if migrate:
        try:
            upgrade_to_head(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise ConfigError(
                f"the node store at {safe_url(url)} cannot be opened ({describe_db_error(exc)}); "
                "check [store] url in node.toml or FEDLINK_NODE_DATABASE_URL, and that the "
                "database server is running"
            ) from None
        except ConfigError:
            engine.dispose()
            raise
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
