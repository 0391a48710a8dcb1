"""Governance keys, the signed roster, signed reviews and signed revocations
(docs/hub.md, "Governance keys"). Everything signed here is signed by members' own keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hub.api.deps import (
    AnyUserCaller,
    ContextDep,
    GovernanceCaller,
    NodeCaller,
    NodeClientDep,
    RawBody,
    SessionDep,
)
from hub.api.responses import SIGNED, SIGNED_PUSHED, USER, USER_CREATE, USER_OBJECT
from hub.api.schemas_public import (
    KeyRegistered,
    NodeGovernance,
    ProjectTermsView,
    RevocationAccepted,
    RosterAccepted,
    RosterView,
)
from hub.api.schemas_views import RequestDetail, returns
from hub.services import governance, reviews
from hub.services.requests import visible_request
from hub.services.terms import request_project_terms
from hub.services.views import request_detail
from protocol.governance import roster_digest, show_fingerprint
from protocol.project import project_digest

router = APIRouter(tags=["governance"])


class KeyRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")] = Field(
        description="Your Ed25519 public key: 32 bytes, base64url without padding")


@router.post("/v1/governance/keys", responses=USER_CREATE, status_code=201,
             **returns(KeyRegistered),
             summary="Register your own governance signing key (public half) [governance]")
def register_key(body: KeyRegistration, caller: GovernanceCaller, session: SessionDep,
                 ctx: ContextDep) -> dict[str, str]:
    """Register the public half of your own Ed25519 governance key (base64url). Reviews and
    rosters are then signed with it, client-side."""
    return governance.register_key(session, ctx, caller, public_key=body.public_key)


@router.get("/v1/governance/roster", responses=USER, **returns(RosterView),
            summary="The signed roster chain, oldest first [any user]")
def roster(_caller: AnyUserCaller, session: SessionDep) -> dict[str, Any]:
    """The signed roster chain (oldest first), the current roster and its fingerprint, which
    nodes pin."""
    current = governance.current_roster(session)
    return {
        "versions": governance.roster_chain(session),
        "current": None if current is None else current.model_dump(mode="json"),
        "fingerprint": None if current is None else show_fingerprint(roster_digest(current)),
    }


@router.post("/v1/governance/roster", responses=SIGNED, status_code=201,
             **returns(RosterAccepted),
             summary="The next roster version, signed by a quorum of the current one "
             "(the first: by a quorum of its own members) [governance]")
def submit_roster(body: RawBody, caller: GovernanceCaller, session: SessionDep,
                  ctx: ContextDep) -> dict[str, Any]:
    """The next roster version, signed by a quorum of the current one (the first by a quorum of
    its own members)."""
    return governance.submit_roster(session, ctx, caller, body=body)


@router.get("/v1/requests/{request_id}/project-terms", responses=USER_OBJECT,
            **returns(ProjectTermsView),
            summary="The project-wide terms a governance decision signs [governance]")
def project_terms(request_id: str, caller: GovernanceCaller,
                  session: SessionDep) -> dict[str, Any]:
    """The project-wide terms and the digest a governance decision signs."""
    request = visible_request(session, caller, request_id=request_id)
    terms = request_project_terms(request)
    return {"project_terms": terms.model_dump(mode="json"),
            "project_digest": project_digest(terms), "status": request.status}


@router.post("/v1/requests/{request_id}/signed-reviews", responses=SIGNED, status_code=201,
             **returns(RequestDetail),
             summary="A review signed with your governance key (governance_decision) "
             "[governance]")
def signed_review(request_id: str, body: RawBody, caller: GovernanceCaller,
                  session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """A governance decision signed with your registered key over the current project terms."""
    request = reviews.signed_review(session, ctx, caller, request_id=request_id, body=body)
    return request_detail(session, ctx, caller, request)


@router.post("/v1/requests/{request_id}/revocations", responses=SIGNED_PUSHED,
             **returns(RevocationAccepted),
             summary="A revocation signed by one roster member; pushed to every node of "
             "the project [governance]")
def revoke(request_id: str, body: RawBody, caller: GovernanceCaller, session: SessionDep,
           ctx: ContextDep, client: NodeClientDep) -> dict[str, Any]:
    """A revocation signed by a roster member; recorded, applied at the hub and pushed to every
    node of the project (502 when no node answers; nodes also pull it)."""
    return governance.signed_revocation(session, ctx, caller, request_id=request_id,
                                        body=body, client=client)


@router.get("/v1/node/governance", responses=USER, **returns(NodeGovernance),
            summary="Roster versions and the revocations of this agency's projects [node]")
def node_governance(caller: NodeCaller, session: SessionDep) -> dict[str, Any]:
    """What a node pulls: the roster chain and the revocations of its agency's projects."""
    return governance.node_governance(session, caller)
