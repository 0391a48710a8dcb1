"""Governance statements pushed to the node: ``POST /v1/governance/revocations`` (a signed
revocation) and ``POST /v1/governance/roster`` (signed roster versions after the current
one). Both are self-authenticating — signed by roster members (or this agency's steward
for a revocation) — so no hub signature is needed; the hub is only the courier."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from agency_node.api.deps import Services, read_limited
from agency_node.api.responses import STATEMENT, json_body, signed_body
from agency_node.errors import MalformedRequestError, PayloadTooLargeError
from agency_node.services import governance
from agency_node.services.gate import ReceivedBody
from protocol.canonical import parse_json
from protocol.governance import Revocation
from protocol.signing import SignedEnvelope

router = APIRouter()

#: A revocation is one envelope; a roster update a few dozen: well under 1 MiB.
MAX_GOVERNANCE_BODY_BYTES = 1 << 20


async def _body(request: Request) -> ReceivedBody:
    return await read_limited(request, MAX_GOVERNANCE_BODY_BYTES)


class RosterPush(BaseModel):
    """The body of ``POST /v1/governance/roster`` (documented; read by :func:`push_roster`)."""

    versions: list[list[SignedEnvelope]]


def _json(body: ReceivedBody) -> Any:
    if body.too_large:
        raise PayloadTooLargeError(f"request body is larger than {body.limit} bytes")
    try:
        return parse_json(body.data)
    except ValueError:
        raise MalformedRequestError("the body is not JSON") from None


@router.post("/v1/governance/revocations", responses=STATEMENT,
             openapi_extra=signed_body(Revocation))
def push_revocation(body: Annotated[ReceivedBody, Depends(_body)],
                    services: Services) -> dict[str, Any]:
    new = governance.accept_revocation(services.runtime, _json(body), now=services.now())
    return {"recorded": new}


@router.post("/v1/governance/roster", responses=STATEMENT,
             openapi_extra=json_body(RosterPush))
def push_roster(body: Annotated[ReceivedBody, Depends(_body)],
                services: Services) -> dict[str, Any]:
    data = _json(body)
    versions = data.get("versions") if isinstance(data, dict) else None
    if not isinstance(versions, list) or not all(isinstance(v, list) for v in versions):
        raise MalformedRequestError("expected {\"versions\": [[signed roster, …], …]}")
    roster = governance.apply_roster_updates(services.runtime, versions, now=services.now())
    return {"version": None if roster is None else roster.version}
