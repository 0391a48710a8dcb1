"""Per-request observability of the node: a request id, one access log line and the HTTP
metrics, as a pure ASGI middleware (streamed responses pass through untouched).

The request id is the caller's ``X-Request-ID`` when it is a short token of safe characters
(so a load balancer's id correlates), else a fresh random one; it is echoed in the response
header. The access line (logger ``agency_node.access``) and the metrics carry the route *template*
(``/v1/match-requests``), ``<unmatched>`` for paths no route matched — never the raw
path, the query string, a header value or a body (docs/operations.md). The hub has the
same middleware (hub/api/observability.py): the two services never import each other.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from contextvars import ContextVar
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agency_node.metrics import NodeMetrics

REQUEST_ID: ContextVar[str | None] = ContextVar("node_request_id", default=None)
_SAFE_ID: Final = re.compile(r"[A-Za-z0-9._-]{8,64}")
access_log = logging.getLogger("agency_node.access")


class RequestIdFilter(logging.Filter):
    """Stamps the current request's id on every record (see :mod:`fedlink.jsonlog`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path: object = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "<unmatched>"


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate: str = bytes(value).decode("latin-1")
            if _SAFE_ID.fullmatch(candidate):
                return candidate
    return secrets.token_hex(8)


class RequestObserver:
    def __init__(self, app: ASGIApp, *, metrics: NodeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_template(scope), str(scope.get("method", ""))
            self.metrics.observe_request(method=method, route=route, status=status,
                                         seconds=seconds)
            access_log.info("request", extra={
                "request_id": request_id, "method": method, "route": route,
                "status": status, "duration_ms": round(seconds * 1000, 2),
            })
            REQUEST_ID.reset(token)
