"""Research requests (data sharing agreements) and governance reviews."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import (
    ContextDep,
    GovernanceCaller,
    RequestReaderCaller,
    ResearcherCaller,
    SessionDep,
)
from hub.api.responses import USER, USER_CHANGE, USER_OBJECT
from hub.api.schemas import DataSharingAgreementPatch, Reason, ReviewCreate
from hub.domain.dsa import DataSharingAgreement
from hub.services import requests, reviews
from hub.services.views import request_detail, request_summary

router = APIRouter(prefix="/v1/requests", tags=["requests"])


@router.post("", responses=USER_CHANGE,
             status_code=201, summary="Draft a request (a data sharing agreement) [researcher]")
def create(body: DataSharingAgreement, caller: ResearcherCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    request = requests.create_request(session, ctx, caller, dsa=body)
    return request_detail(session, ctx, caller, request)


@router.get("", responses=USER,
            summary="List requests: researchers their own, stewards their agency's, "
            "governance and auditors all submitted ones [researcher, governance, steward, auditor]")
def list_requests(caller: RequestReaderCaller, session: SessionDep, ctx: ContextDep,
                  status: str | None = None) -> list[dict[str, Any]]:
    return [request_summary(r) for r in requests.list_requests(session, ctx, caller,
                                                               status=status)]


@router.get("/{request_id}", responses=USER_OBJECT,
            summary="One request [researcher (own), governance, steward "
            "(own agency), auditor]")
def get(request_id: str, caller: RequestReaderCaller, session: SessionDep,
        ctx: ContextDep) -> dict[str, Any]:
    request = requests.get_request(session, ctx, caller, request_id=request_id)
    return request_detail(session, ctx, caller, request)


@router.patch("/{request_id}", responses=USER_CHANGE,
              summary="Edit a draft or a request sent back for changes "
              "[researcher (own)]")
def edit(request_id: str, body: DataSharingAgreementPatch,  # type: ignore[valid-type]
         caller: ResearcherCaller, session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    changes = body.model_dump(mode="json", exclude_unset=True)  # type: ignore[attr-defined]
    request = requests.update_request(session, ctx, caller, request_id=request_id,
                                      changes=changes)
    return request_detail(session, ctx, caller, request)


@router.post("/{request_id}/submit", responses=USER_CHANGE,
             summary="Submit for review [researcher (own)]")
def submit(request_id: str, caller: ResearcherCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    request = requests.submit_request(session, ctx, caller, request_id=request_id)
    return request_detail(session, ctx, caller, request)


@router.post("/{request_id}/withdraw", responses=USER_CHANGE,
             summary="Withdraw before approval [researcher (own)]")
def withdraw(request_id: str, caller: ResearcherCaller, session: SessionDep, ctx: ContextDep,
             body: Reason | None = None) -> dict[str, Any]:
    request = requests.withdraw_request(session, ctx, caller, request_id=request_id,
                                        reason=body.reason if body else "")
    return request_detail(session, ctx, caller, request)


@router.post("/{request_id}/revoke", responses=USER_CHANGE,
             summary="Revoke an approved project [governance]")
def revoke(request_id: str, body: Reason, caller: GovernanceCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    request = requests.revoke_request(session, ctx, caller, request_id=request_id,
                                      reason=body.reason)
    return request_detail(session, ctx, caller, request)


@router.post("/{request_id}/reviews", responses=USER_CHANGE, status_code=201,
             summary="Approve, deny or request changes [governance]")
def review(request_id: str, body: ReviewCreate, caller: GovernanceCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    request = reviews.review(session, ctx, caller, request_id=request_id,
                             decision=body.decision, reason=body.reason)
    return request_detail(session, ctx, caller, request)
