"""Can the node store take a write? The check behind ``/ready``'s ``writable`` verdict.

``SELECT 1`` answers on a read-only file system, a database opened read-only and a full
disk, while every write then fails; a node that reports ready there accepts match requests
it cannot audit. The probe writes without keeping anything: it rewrites the
``alembic_version`` row to its own value inside a transaction it rolls back, which takes the
store's write lock (SQLite refuses it on a read-only database, PostgreSQL in a read-only
transaction or on a standby). A rolled-back write allocates nothing, so fullness is checked
separately: SQLite's page limit (``PRAGMA max_page_count``) and the free space of the disk
holding the SQLite file.
"""

from __future__ import annotations

import os
from typing import Final

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from agency_node.store.db import describe_db_error

#: Below this many free bytes on the disk holding a SQLite store, the node is not ready: an
#: ingest, an audit append or a WAL checkpoint could no longer complete.
MIN_FREE_BYTES: Final = 16 << 20
#: How long the probe waits for a SQLite write lock held by someone else (an ingest): a
#: store that is busy is writable, and /ready must answer quickly.
_PROBE_BUSY_MS: Final = 1000


def store_writable(connection: Connection) -> str:
    """``ok``, or one sentence saying why the store cannot take a write now."""
    sqlite = connection.dialect.name == "sqlite"
    try:
        connection.rollback()  # a fresh transaction: not a read snapshot that went stale
        if sqlite:
            full = _sqlite_full(connection)
            if full:
                return full
            connection.exec_driver_sql(f"PRAGMA busy_timeout={_PROBE_BUSY_MS}")
        try:
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
        finally:
            connection.rollback()
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout=30000")
    except SQLAlchemyError as exc:
        reason = describe_db_error(exc)
        if "locked" in reason:
            return "ok"  # another writer holds the lock: busy, not unwritable
        return f"cannot take a write ({reason})"
    return "ok"


def _sqlite_full(connection: Connection) -> str:
    pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
    limit = connection.exec_driver_sql("PRAGMA max_page_count").scalar_one()
    free_pages = connection.exec_driver_sql("PRAGMA freelist_count").scalar_one()
    if pages >= limit and free_pages == 0:
        return f"is full (its page limit of {limit} pages is reached)"
    path = connection.engine.url.database
    if path and path != ":memory:" and not path.startswith("file:"):
        info = os.statvfs(os.path.dirname(os.path.abspath(path)))
        free = info.f_bavail * info.f_frsize
        if free < MIN_FREE_BYTES:
            return f"is on a disk with only {free} bytes free (at least {MIN_FREE_BYTES} needed)"
    return ""
