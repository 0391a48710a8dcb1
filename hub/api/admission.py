"""Admission control: at most ``max_concurrent_requests`` requests inside the hub at once;
the others wait their turn on the event loop (no thread, no database connection) for up
to ``request_queue_seconds``, then are answered **503** ``overloaded`` with ``Retry-After``.

Why (issue 20): a request's synchronous dependencies, handler and session teardown run as
separate steps on the thread pool, and its pooled connection stays checked out between
them. With hundreds of requests in flight, requests holding every connection waited for a
thread while every thread waited for a connection, until the pool timeout turned them all
into errors. Keeping the number in flight at or below both the thread pool and the
connection pool (``request_threads``, ``db_pool_size + db_max_overflow``; checked at
start-up in :mod:`hub.settings`) means neither wait happens: excess load queues cheaply
and, past the wait, is refused by design rather than by collapse. ``/health`` (liveness,
no database) is never queued. A pure ASGI middleware: streamed responses pass through and
hold their slot until they end.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

CODE: Final = "overloaded"
#: Seconds a refused client is told to wait.
RETRY_AFTER: Final = 2
_UNQUEUED: Final = frozenset({"/health"})
log = logging.getLogger("hub.api")


class Admission:
    """Lets ``limit`` HTTP requests in at once; the rest wait up to ``wait`` seconds."""

    def __init__(self, app: ASGIApp, *, limit: int, wait: float) -> None:
        self.app = app
        self.limit = limit
        self.wait = wait
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(limit)

    def _semaphore(self) -> asyncio.Semaphore:
        # One per event loop: tests serve the same app from several loops in turn.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._slots = loop, asyncio.Semaphore(self.limit)
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in _UNQUEUED:
            await self.app(scope, receive, send)
            return
        slots = self._semaphore()
        try:
            await asyncio.wait_for(slots.acquire(), timeout=self.wait)
        except TimeoutError:
            log.warning("overloaded: %s %s waited %.1f s for a slot", scope.get("method"),
                        scope.get("path"), self.wait)
            await self._refuse(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": CODE, "detail": (
            "the hub is at capacity; retry this request shortly")}).encode()
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER).encode())]})
        await send({"type": "http.response.body", "body": body})
