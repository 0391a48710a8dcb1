"""Which database failures are the store's, not the request's: ``busy`` or ``unavailable``.

A request that fails because the database is under load (SQLite's write lock held past the
busy timeout, a PostgreSQL deadlock or serialization failure, a lock or statement timeout,
the server's connection limit) is answered 503 ``store_busy`` with a short Retry-After; one
that fails because the database cannot take it at all (read-only, disk full, I/O error,
server gone or shutting down) is 503 ``store_unavailable`` (:mod:`hub.api.errors`). Neither
is a 500. Failures are classified by the driver's code — PostgreSQL's SQLSTATE, SQLite's
result code — not by message text, which changes with versions and locales. Anything else
(a constraint violation, a bug) is not a store fault and stays the caller's to handle.
(The node classifies the same way in ``agency_node/store/faults.py``; the roles share no
code.)
"""

from __future__ import annotations

from typing import Final, Literal

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, OperationalError

StoreFault = Literal["busy", "unavailable"]

#: PostgreSQL SQLSTATEs of load: retry shortly. (Class 40, transaction rollback, as well.)
_PG_BUSY: Final = frozenset({"55P03",   # lock_not_available (lock_timeout)
                             "57014",   # query_canceled (statement_timeout)
                             "53300"})  # too_many_connections
#: PostgreSQL SQLSTATE classes of a store that cannot take the request: 08 connection
#: exception, 53 insufficient resources (53100 disk_full, 53200 out_of_memory), 57 operator
#: intervention (57P01 admin_shutdown, 57P03 cannot_connect_now), 58 system error (58030
#: io_error), and single states: 25006 read_only_sql_transaction (a read-only database, role
#: or standby), XX001/XX002 data or index corrupted.
_PG_UNAVAILABLE_CLASSES: Final = frozenset({"08", "53", "57", "58"})
_PG_UNAVAILABLE: Final = frozenset({"25006", "XX001", "XX002"})
#: SQLite primary result codes (the low byte of ``sqlite_errorcode``).
_SQLITE_BUSY: Final = frozenset({5, 6})  # SQLITE_BUSY (incl. BUSY_SNAPSHOT), SQLITE_LOCKED
#: READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
_SQLITE_UNAVAILABLE: Final = frozenset({8, 10, 11, 13, 14, 15, 26})
#: Faults after which a connection is reopened: SQLITE_READONLY, SQLITE_IOERR,
#: SQLITE_CANTOPEN; PostgreSQL's read_only_sql_transaction.
_SQLITE_REOPEN: Final = frozenset({8, 10, 14})
_PG_REOPEN: Final = frozenset({"25006"})


def store_fault(exc: DBAPIError) -> StoreFault | None:
    """``busy``, ``unavailable``, or None when ``exc`` is not the store's fault."""
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        if sqlstate in _PG_BUSY or sqlstate.startswith("40"):
            return "busy"
        if sqlstate[:2] in _PG_UNAVAILABLE_CLASSES or sqlstate in _PG_UNAVAILABLE:
            return "unavailable"
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int):
        if code & 0xFF in _SQLITE_BUSY:
            return "busy"
        if code & 0xFF in _SQLITE_UNAVAILABLE:
            return "unavailable"
    elif "is locked" in str(original):
        return "busy"  # a SQLite driver without result codes: its message is all there is
    if exc.connection_invalidated or isinstance(exc, OperationalError):
        # A dropped connection has no SQLSTATE; any other operational failure is the
        # database's, not the request's (the behaviour before SQLSTATEs were read).
        return "unavailable"
    return None


def fault_code(exc: DBAPIError) -> str:
    """The driver's code for logs (``SQLSTATE 25006``, ``SQLITE_FULL``): it names the
    condition and never carries a value from the request, unlike the message may."""
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate:
        return f"SQLSTATE {sqlstate}"
    name = getattr(original, "sqlite_errorname", None)
    return str(name) if name else type(original).__name__


def reopen_after_store_fault(engine: Engine) -> None:
    """Drop the pooled connections of ``engine`` once one meets a read-only or unopenable
    store, so that the next request opens afresh.

    A SQLite connection opened on a read-only file system stays read-only after the file
    system is writable again, and a PostgreSQL session begun read-only (a role or database
    setting, a standby) stays so after the setting is reset or the server promoted: without
    this the hub would answer 503 until restarted."""
    event.listen(engine, "handle_error", _reopen)


def _reopen(context: ExceptionContext) -> None:
    original = context.original_exception
    code = getattr(original, "sqlite_errorcode", None)
    if getattr(original, "sqlstate", None) in _PG_REOPEN or (
            isinstance(code, int) and code & 0xFF in _SQLITE_REOPEN):
        context.is_disconnect = True  # SQLAlchemy invalidates the connection and the pool
        cursor = getattr(context.execution_context, "cursor", None)
        if cursor is not None:
            # SQLite keeps a closed connection open while a statement of it lives on (the
            # traceback holds this cursor), and with it its read-only view of the file.
            cursor.close()
