"""``POST /v1/match-requests``: a signed match request in, an Arrow IPC stream out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from agency_node.api.deps import MatchBody, Services
from agency_node.api.responses import SIGNED, ok_as, signed_body
from agency_node.services.match import ARROW_STREAM, authorise_match, stream_tokens
from protocol.wire import MatchRequest

router = APIRouter()


@router.post("/v1/match-requests", response_class=StreamingResponse,
             responses={**ok_as(ARROW_STREAM, description="Token batches, streamed"), **SIGNED},
             openapi_extra=signed_body(MatchRequest))
def match_request(body: MatchBody, services: Services, request: Request) -> StreamingResponse:
    plan = authorise_match(services, body)
    metrics = getattr(request.app.state, "metrics", None)
    counted = metrics.match_units_encoded.inc if metrics is not None else None
    return StreamingResponse(stream_tokens(services, plan, on_units=counted),
                             media_type=ARROW_STREAM)
