"""App-level exception handlers: every failure is ``{"error": code, "detail": sentence}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.api.allow import allowed_methods
from hub.db.faults import fault_code, store_fault
from hub.errors import HubError
from protocol.errors import ProtocolError

log = logging.getLogger("hub.api")

#: Signed-message refusals that mean "you are not who you claim" → 401; the rest → 400.
_UNAUTHENTICATED_REASONS = frozenset({"bad_signature", "unknown_key", "expired", "replayed_nonce"})
#: Retry-After (seconds) of a 503 for load (pool exhausted, SQLite busy).
BUSY_RETRY_AFTER_SECONDS = 2
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
               413: "payload_too_large"}


def _body(code: str, detail: str, status: int) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


def _busy() -> JSONResponse:
    response = _body("store_busy", "the hub is busy; retry this request shortly", 503)
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


def describe(exc: RequestValidationError) -> str:
    """Where and why, never the offending value (it could be a token or a name)."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _body("invalid_request", describe(exc), 422)

    @app.exception_handler(HubError)
    async def _hub(_request: Request, exc: HubError) -> JSONResponse:
        response = _body(exc.code, str(exc), exc.status)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(ProtocolError)
    async def _protocol(_request: Request, exc: ProtocolError) -> JSONResponse:
        status = 401 if exc.reason in _UNAUTHENTICATED_REASONS else 400
        return _body(exc.reason, str(exc), status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        response = _body(code, str(exc.detail), exc.status_code)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only the first route's
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(PoolTimeoutError)
    async def _pool_exhausted(request: Request, _exc: PoolTimeoutError) -> JSONResponse:
        # Overload: every pooled connection stayed busy for db_pool_timeout_seconds. The
        # request was fine; answer 503 with a short Retry-After, never a 500 (issue 20).
        log.warning("database pool exhausted on %s %s", request.method, request.url.path)
        return _busy()

    @app.exception_handler(DBAPIError)
    async def _store_unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
        # Classified by SQLSTATE / SQLite result code (hub.db.faults): PostgreSQL's
        # read-only transaction is an InternalError, its disk full an OperationalError.
        fault = store_fault(exc)
        if fault is None:
            raise exc  # not the store's fault: on to the 500 handler, as any bug
        if fault == "busy":
            # Another writer held SQLite's write lock past the busy timeout, or moved the
            # database under a reader that then tried to write; a PostgreSQL deadlock or
            # lock timeout: load, not a broken store.
            log.warning("database busy on %s %s", request.method, request.url.path)
            return _busy()
        # Read-only or full database, server gone: the request was fine and may be retried
        # once the operator has fixed the store (/ready says what is wrong); not a 500.
        log.error("database unavailable on %s %s (%s)", request.method, request.url.path,
                  fault_code(exc))
        response = _body("store_unavailable",
                         "the hub database cannot take this request now; retry later", 503)
        response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return _body("internal_error", "the hub failed to handle this request", 500)
