"""Named ``Annotated`` dependencies of the node API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agency_node.errors import MalformedRequestError
from agency_node.services.context import NodeServices
from agency_node.services.gate import ReceivedBody


def get_services(request: Request) -> NodeServices:
    services: NodeServices = request.app.state.services
    return services


Services = Annotated[NodeServices, Depends(get_services)]


async def read_limited(request: Request, limit: int) -> ReceivedBody:
    """Read the body, stopping as soon as it exceeds ``limit`` (413 before any parsing)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise MalformedRequestError("Content-Length is not a number") from None
        if length > limit:
            return ReceivedBody(b"", too_large=True, limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return ReceivedBody(b"", too_large=True, limit=limit)
        chunks.append(chunk)
    return ReceivedBody(b"".join(chunks), too_large=False, limit=limit)


async def _match_body(request: Request, services: Services) -> ReceivedBody:
    return await read_limited(request, services.runtime.settings.max_match_request_bytes)


async def _extract_body(request: Request, services: Services) -> ReceivedBody:
    return await read_limited(request, services.runtime.settings.max_extract_request_bytes)


MatchBody = Annotated[ReceivedBody, Depends(_match_body)]
ExtractBody = Annotated[ReceivedBody, Depends(_extract_body)]
