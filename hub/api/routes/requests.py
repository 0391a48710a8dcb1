"""Research requests (data sharing agreements) and governance reviews."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from hub.api.deps import (
    ContextDep,
    GovernanceCaller,
    RequestReaderCaller,
    ResearcherCaller,
    SessionDep,
)
from hub.api.examples import AGREEMENT_EXAMPLES
from hub.api.responses import USER, USER_CHANGE, USER_OBJECT
from hub.api.schemas import DataSharingAgreementPatch, Reason, ReviewCreate
from hub.api.schemas_views import RequestDetail, RequestSummary, returns
from hub.domain.dsa import DataSharingAgreement
from hub.services import requests, reviews
from hub.services.views import request_detail, request_summary

router = APIRouter(prefix="/v1/requests", tags=["requests"])


@router.post("", responses=USER_CHANGE, **returns(RequestDetail),
             status_code=201, summary="Draft a request (a data sharing agreement) [researcher]")
def create(body: Annotated[DataSharingAgreement, Body(openapi_examples=AGREEMENT_EXAMPLES)],
           caller: ResearcherCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Draft a research request: a complete data sharing agreement (schema
    `DataSharingAgreement`; a complete example is docs/sample-agreement.json). The agencies,
    variables and years must be in the catalog (`GET /v1/catalog`); every problem is a 422
    naming the field. The draft is yours to edit (`PATCH`) until you submit it."""
    request = requests.create_request(session, ctx, caller, dsa=body)
    return request_detail(session, ctx, caller, request)


@router.get("", responses=USER, **returns(list[RequestSummary]),
            summary="List requests: researchers their own, stewards their agency's, "
            "governance and auditors all submitted ones [researcher, governance, steward, auditor]")
def list_requests(caller: RequestReaderCaller, session: SessionDep, ctx: ContextDep,
                  status: str | None = None) -> list[dict[str, Any]]:
    """Requests the caller may see, filtered by `status`: researchers their own, stewards those
    asking their agency, governance and auditors every submitted one."""
    return [request_summary(r) for r in requests.list_requests(session, ctx, caller,
                                                               status=status)]


@router.get("/{request_id}", responses=USER_OBJECT, **returns(RequestDetail),
            summary="One request [researcher (own), governance, steward "
            "(own agency), auditor]")
def get(request_id: str, caller: RequestReaderCaller, session: SessionDep,
        ctx: ContextDep) -> dict[str, Any]:
    """One request: its agreement, status, reviews, the agencies' decisions and what approval
    still waits for (`waiting_for`)."""
    request = requests.get_request(session, ctx, caller, request_id=request_id)
    return request_detail(session, ctx, caller, request)


@router.patch("/{request_id}", responses=USER_CHANGE, **returns(RequestDetail),
              summary="Edit a draft or a request sent back for changes "
              "[researcher (own)]")
def edit(request_id: str, body: DataSharingAgreementPatch,  # type: ignore[valid-type]
         caller: ResearcherCaller, session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Change any fields of a draft, or of a request governance sent back for changes; the
    merged agreement is validated in full. 409 in any other state."""
    changes = body.model_dump(mode="json", exclude_unset=True)  # type: ignore[attr-defined]
    request = requests.update_request(session, ctx, caller, request_id=request_id,
                                      changes=changes)
    return request_detail(session, ctx, caller, request)


@router.post("/{request_id}/submit", responses=USER_CHANGE, **returns(RequestDetail),
             summary="Submit for review [researcher (own)]")
def submit(request_id: str, caller: ResearcherCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Send a draft (or an edited request) for review by the agencies' stewards and the
    governance quorum. 409 unless it is a draft or was sent back for changes."""
    request = requests.submit_request(session, ctx, caller, request_id=request_id)
    return request_detail(session, ctx, caller, request)


@router.post("/{request_id}/withdraw", responses=USER_CHANGE, **returns(RequestDetail),
             summary="Withdraw before approval [researcher (own)]")
def withdraw(request_id: str, caller: ResearcherCaller, session: SessionDep, ctx: ContextDep,
             body: Reason | None = None) -> dict[str, Any]:
    """Withdraw your request before it is approved (optional reason)."""
    request = requests.withdraw_request(session, ctx, caller, request_id=request_id,
                                        reason=body.reason if body else "")
    return request_detail(session, ctx, caller, request)


@router.post("/{request_id}/revoke", responses=USER_CHANGE, **returns(RequestDetail),
             summary="Revoke an approved project [governance]")
def revoke(request_id: str, body: Reason, caller: GovernanceCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Revoke an approved project: no further runs or extracts; its extracts are destroyed. A
    reason is required."""
    request = requests.revoke_request(session, ctx, caller, request_id=request_id,
                                      reason=body.reason)
    return request_detail(session, ctx, caller, request)


@router.post("/{request_id}/reviews", responses=USER_CHANGE, status_code=201,
             **returns(RequestDetail),
             summary="Approve, deny or request changes [governance]")
def review(request_id: str, body: ReviewCreate, caller: GovernanceCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Record your governance decision on a submitted request: approve, deny, or request
    changes (with a reason). A denial also needs a `public_reason`, written for the public
    list (422 `public_reason_required`). An approval is refused with 409
    `irb_not_approved` while the agreement's IRB status is not approved or exempt (the
    hub's `require_irb_approval`), and with 422 `criteria_incomplete` unless `criteria`
    answers every criterion of the hub's review checklist as met (`GET
    /v1/review-policy`). Once a roster exists, approvals must be signed (`POST
    /v1/requests/{request_id}/signed-reviews`, the criteria inside the signed decision)."""
    request = reviews.review(session, ctx, caller, request_id=request_id,
                             decision=body.decision, reason=body.reason,
                             public_reason=body.public_reason, criteria=body.criteria)
    return request_detail(session, ctx, caller, request)
