"""Node-facing endpoints (node API token from enrollment): terms and steward decisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import ContextDep, NodeCaller, RawBody, SessionDep
from hub.api.responses import SIGNED, USER, USER_OBJECT
from hub.api.schemas_public import AgencyTerms, DecisionAccepted, DictionaryAccepted, NodePending
from hub.api.schemas_views import returns
from hub.domain.lifecycle import UNDER_REVIEW
from hub.persistence import requests as store
from hub.services import amendments, audit, catalog, requests, reviews
from hub.services.terms import agency_terms

router = APIRouter(prefix="/v1/node", tags=["nodes"])


@router.get("/requests", responses=USER, **returns(list[NodePending]),
            summary="Requests awaiting this agency's decision [node]")
def pending(caller: NodeCaller, session: SessionDep) -> list[dict[str, Any]]:
    """The requests waiting for this agency's steward."""
    assert caller.principal is not None
    agency = caller.principal.agency
    rows = store.list_requests(session, agency_code=agency,
                               statuses=[str(s) for s in UNDER_REVIEW])
    # An amendment that leaves this agency's terms unchanged does not ask it again
    # (its approval in force carries over, docs/amendments.md).
    return [{"project_id": r.id, "title": r.title, "status": r.status} for r in rows
            if r.status != "amending" or agency in amendments.asked_agencies(session, r)]


@router.get("/requests/{request_id}/terms", responses=USER_OBJECT, **returns(AgencyTerms),
            summary="The terms this agency is asked to approve (docs/protocol.md) [node]")
def terms(request_id: str, caller: NodeCaller, session: SessionDep,
          ctx: ContextDep) -> dict[str, Any]:
    """The terms this agency's steward is asked to approve, with the `terms_digest` the node
    signs (docs/protocol.md). Audited."""
    assert caller.principal is not None and caller.principal.agency is not None
    request = requests.visible_request(session, caller, request_id=request_id)
    served = agency_terms(request, caller.principal.agency)
    audit.record(session, ctx, caller, action="request.terms_viewed", object_type="request",
                 object_id=request.id, project=request.id, agency=caller.principal.agency,
                 detail={"terms_digest": served["terms_digest"]})
    session.commit()
    return served


@router.post("/dictionary", responses=SIGNED, **returns(DictionaryAccepted),
             summary="A node-signed data dictionary (SignedEnvelope dictionary_update) that "
             "replaces the agency's catalog [node]")
def publish_dictionary(body: RawBody, caller: NodeCaller, session: SessionDep,
                       ctx: ContextDep) -> dict[str, Any]:
    """A node-signed data dictionary (SignedEnvelope `dictionary_update`, newer than the last)
    that replaces the agency's catalog and person-id declaration."""
    return catalog.publish_dictionary(session, ctx, caller, body=body)


@router.post("/requests/{request_id}/decision", responses=SIGNED,
             **returns(DecisionAccepted),
             summary="A node-signed steward decision (SignedEnvelope steward_decision) [node]")
def decision(request_id: str, body: RawBody, caller: NodeCaller, session: SessionDep,
             ctx: ContextDep) -> dict[str, Any]:
    """A node-signed steward decision (SignedEnvelope `steward_decision`) over the current
    terms digest."""
    request = reviews.steward_decision(session, ctx, caller, request_id=request_id, body=body)
    return {"project_id": request.id, "status": request.status}
