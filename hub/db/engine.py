"""Engine and session factory; nothing here runs at import time.

SQLite (the embedded default) gets foreign keys on and ``BEGIN IMMEDIATE`` for every
transaction: writers are serialised up front instead of failing with "database is locked"
half-way through, which keeps the audit chain's read-head-then-append step race-free. On
PostgreSQL the chain head row is locked with ``SELECT … FOR UPDATE`` instead
(:mod:`hub.persistence.audit`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

CONNECT_TIMEOUT = 10


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///…`` or ``postgresql+psycopg://…``)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # A server that does not answer is reported after CONNECT_TIMEOUT s, not the OS's minutes.
    connect_args = {"connect_timeout": CONNECT_TIMEOUT, **kwargs.pop("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
