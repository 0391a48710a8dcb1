"""Is a database failure the store's, not the request's? Then the node answers 503
``store_unavailable`` with ``Retry-After`` (:mod:`agency_node.api.errors`), never a 500.

Classified by the driver's code — PostgreSQL's SQLSTATE, SQLite's result code — not by
message text: a read-only database, role or standby (SQLSTATE 25006, an ``InternalError``
to SQLAlchemy; SQLITE_READONLY), a full disk (class 53; SQLITE_FULL), an I/O error (class
58; SQLITE_IOERR), a lost or shutting-down server (classes 08 and 57), a lock, deadlock or
serialization failure (class 40, 55P03; SQLITE_BUSY). A constraint violation or a bug is
not a store fault. (The hub classifies the same way in ``hub/db/faults.py``, where load and
unavailability get different answers; the roles share no code.)
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, OperationalError

_PG_CLASSES: Final = frozenset({"08", "40", "53", "57", "58"})
_PG_STATES: Final = frozenset({"25006", "55P03", "XX001", "XX002"})
#: BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
_SQLITE_CODES: Final = frozenset({5, 6, 8, 10, 11, 13, 14, 15, 26})


def is_store_fault(exc: DBAPIError) -> bool:
    """True when ``exc`` says the store cannot take the request now."""
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate[:2] in _PG_CLASSES or sqlstate in _PG_STATES):
        return True
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _SQLITE_CODES:
        return True
    # A dropped connection has no SQLSTATE; any other operational failure is the store's
    # (the behaviour before codes were read).
    return exc.connection_invalidated or isinstance(exc, OperationalError)


def fault_code(exc: DBAPIError) -> str:
    """The driver's code for logs (``SQLSTATE 25006``, ``SQLITE_FULL``)."""
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate:
        return f"SQLSTATE {sqlstate}"
    name = getattr(original, "sqlite_errorname", None)
    return str(name) if name else type(original).__name__


def reopen_after_store_fault(engine: Engine) -> None:
    """Drop the pooled connections of ``engine`` once one meets a read-only or unopenable
    store (SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN; SQLSTATE 25006), so that the next
    request opens afresh: a SQLite connection opened on a read-only file system, or a
    PostgreSQL session begun read-only, stays so after the operator has fixed the store."""
    event.listen(engine, "handle_error", _reopen)


def _reopen(context: ExceptionContext) -> None:
    original = context.original_exception
    code = getattr(original, "sqlite_errorcode", None)
    if getattr(original, "sqlstate", None) == "25006" or (
            isinstance(code, int) and code & 0xFF in {8, 10, 14}):
        context.is_disconnect = True  # SQLAlchemy invalidates the connection and the pool
        cursor = getattr(context.execution_context, "cursor", None)
        if cursor is not None:
            # SQLite keeps a closed connection open while a statement of it lives on (the
            # traceback holds this cursor), and with it its read-only view of the file.
            cursor.close()
