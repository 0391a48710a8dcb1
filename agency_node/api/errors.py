"""Exception handlers: every failure becomes ``{"error": code, "detail": sentence}``.

Protocol refusals map to 4xx by reason; a domain :class:`NodeError` carries its own status;
a store that cannot take the request (read-only, disk full, server gone: classified by
SQLSTATE or SQLite result code in :mod:`agency_node.store.faults`) is 503
``store_unavailable`` with ``Retry-After``; an unexpected exception is
logged (type only — never request content) and answered with a
generic 500 body, never a traceback.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from agency_node.api.allow import allowed_methods
from agency_node.errors import NodeError
from agency_node.store.db import describe_db_error
from agency_node.store.faults import fault_code, is_store_fault
from protocol.errors import ProtocolError

log = logging.getLogger("agency_node.api")
#: ``Retry-After`` on a 503 ``store_unavailable``.
STORE_RETRY_AFTER_SECONDS = 30

#: HTTP status of each protocol refusal reason (default 400).
PROTOCOL_STATUS = {
    "malformed_message": 400,
    "unsupported_version": 400,
    "wrong_message_type": 400,
    "unknown_key": 401,
    "bad_signature": 401,
    "expired": 401,
    "wrong_signer": 403,
    "replayed_nonce": 409,
    "replay_guard_full": 429,
    "decryption_failed": 400,
}


def error_body(code: str, detail: str, status: int) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


async def _node_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NodeError)
    return error_body(exc.code, str(exc), exc.status)


async def _protocol_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProtocolError)
    return error_body(exc.reason, str(exc), PROTOCOL_STATUS.get(exc.reason, 400))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ())) or "request"
    return error_body("malformed_message", f"{where}: {first.get('msg', 'invalid')}", 422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    response = error_body(code, str(exc.detail), exc.status_code)
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:  # every method of the path, not only the first route's
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


async def _store_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if not is_store_fault(exc):
        raise exc  # not the store's fault: on to the 500 handler, as any bug
    # A read-only file system, a full disk, a lost database server: the request was fine
    # and may be retried once the operator has fixed the store (/ready says what is wrong).
    # The driver's first line goes to the log (it names the condition, never a value).
    log.error("store unavailable while answering a request (%s): %s", fault_code(exc),
              describe_db_error(exc))
    response = error_body("store_unavailable",
                          "the node store cannot take this request now; retry later", 503)
    response.headers["Retry-After"] = str(STORE_RETRY_AFTER_SECONDS)
    return response


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected %s while answering a request", type(exc).__name__)
    return error_body("internal_error", "the node could not answer this request", 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(NodeError, _node_error)
    app.add_exception_handler(ProtocolError, _protocol_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _store_unavailable)
    app.add_exception_handler(Exception, _unexpected)
