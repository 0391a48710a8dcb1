"""Empties the public-list cache (:mod:`hub.services.public_cache`) when this process
answers a write, so a caller never reads a list older than its own last change."""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.services.public_cache import PublicCache

_WRITES: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class InvalidateOnWrite:
    """ASGI middleware: a successful write answered by this process empties ``cache``
    (when its response starts, before the client can read the list again)."""

    def __init__(self, app: ASGIApp, *, cache: PublicCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _WRITES:
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                self.cache.clear()
            await send(message)

        try:
            await self.app(scope, receive, send=sending)
        finally:
            # A write that failed half-way may still have committed something: forget.
            self.cache.clear()
