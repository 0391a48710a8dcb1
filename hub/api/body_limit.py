"""A cap on request bodies for every hub route: **413** ``payload_too_large`` (JSON) before
the body is read whole.

A declared ``Content-Length`` over ``max_request_bytes`` is refused before anything is read.
Otherwise the bytes are *counted as they arrive* (a chunked body has no length; a declared
one may lie): the moment the count passes the limit the 413 is sent and the application is
told the client went away, so no handler ever holds more than the limit in memory. A pure
ASGI middleware, so streamed responses pass through untouched.
"""

from __future__ import annotations

import json
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CODE: Final = "payload_too_large"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(bytes(value).decode("latin-1").strip())
            except ValueError:
                return None
    return None


class BodyLimit:
    """Refuses request bodies larger than ``limit`` bytes with 413 JSON."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": CODE, "detail": (
            f"the request body is larger than this hub accepts ({self.limit} bytes)")}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        received = 0
        refused = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    # The handler sees a client that went away and stops reading.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 is the answer: drop what the handler says afterwards
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
