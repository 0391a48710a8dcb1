"""Can the hub database take a write? The check behind ``/ready``'s ``database`` verdict.

``SELECT 1`` answers on a read-only file system, a database opened read-only, a PostgreSQL
standby and a full disk, while every write then fails. The probe writes without keeping
anything: it rewrites the ``alembic_version`` row to its own value and rolls back (refused
on a read-only database or transaction). A rolled-back write allocates nothing, so for
SQLite fullness is checked separately: its page limit and the free space of its disk.
(The node has the same probe in ``agency_node/store/probe.py``; the roles share no code.)
"""

from __future__ import annotations

import os
from typing import Final

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

#: Below this many free bytes on the disk holding a SQLite database, the hub is not ready.
MIN_FREE_BYTES: Final = 16 << 20


def database_writable(connection: Connection) -> str:
    """``ok``, or one sentence saying why the database cannot take a write now."""
    try:
        connection.rollback()
        if connection.dialect.name == "sqlite":
            full = _sqlite_full(connection)
            if full:
                return full
        try:
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
        finally:
            connection.rollback()
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        if "locked" in first:
            return "ok"  # another writer holds the lock: busy, not unwritable
        return f"cannot take a write ({first[:200]})"
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
