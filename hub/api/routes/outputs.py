"""The airlock: researchers' output tables, automatic checks, stewards' release, publication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from hub.api.deps import (
    ContextDep,
    RequestReaderCaller,
    ResearcherCaller,
    SessionDep,
    StewardCaller,
)
from hub.api.responses import PUBLIC_OBJECT, USER, USER_CHANGE, USER_OBJECT, ok_as
from hub.api.schemas import OutputCreate, OutputReviewBody
from hub.api.schemas_runs import OutputView
from hub.api.schemas_views import returns
from hub.services import airlock
from hub.services.extract_views import output_view

router = APIRouter(tags=["outputs"])


@router.post("/v1/outputs", responses=USER_CHANGE, **returns(OutputView),
             status_code=201, summary="Submit an output table (CSV) for "
             "disclosure checks and the stewards' release [researcher (personnel)]")
def submit(body: OutputCreate, caller: ResearcherCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Submit an output table (CSV, at most 2 MB) from an approved project for the automatic
    disclosure checks and the stewards' release. Only the project's personnel, each with a
    current completion of the hub's required training (else 403 `training_required`)."""
    output = airlock.submit_output(
        session, ctx, caller, project_id=body.project_id, name=body.name,
        description=body.description, kind=body.kind, csv=body.csv,
        count_column=body.count_column)
    return output_view(output)


@router.get("/v1/outputs", responses=USER, **returns(list[OutputView]),
            summary="Outputs the caller may see [researcher (personnel), "
            "governance, steward (own agency), auditor]")
def list_outputs(caller: RequestReaderCaller, session: SessionDep,
                 ctx: ContextDep) -> list[dict[str, Any]]:
    """Outputs the caller may see, with their check results and status."""
    return [output_view(o) for o in airlock.list_outputs(session, ctx, caller)]


@router.get("/v1/outputs/{output_id}", responses=USER_OBJECT, **returns(OutputView),
            summary="One output with its table, checks and "
            "reviews [as above]")
def get(output_id: str, caller: RequestReaderCaller, session: SessionDep,
        ctx: ContextDep) -> dict[str, Any]:
    """One output with its CSV content, automatic checks and the stewards' reviews."""
    output = airlock.get_output(session, ctx, caller, output_id=output_id)
    return {**output_view(output, with_content=True),
            "reviews": airlock.reviews_of(session, output_id=output_id)}


@router.post("/v1/outputs/{output_id}/reviews", responses=USER_CHANGE, **returns(OutputView),
             status_code=201, summary="Release or "
             "return (with comments) an output [steward (project agency)]")
def review(output_id: str, body: OutputReviewBody, caller: StewardCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Release an output, or return it to the researcher with comments (a steward of one of the
    project's agencies)."""
    output = airlock.review_output(session, ctx, caller, output_id=output_id,
                                   decision=body.decision, comments=body.comments)
    return output_view(output)


@router.get("/v1/public/outputs/{output_id}", responses={**PUBLIC_OBJECT, **ok_as("text/csv")},
            tags=["public"], summary="A released output "
            "table (CSV) [public]")
def public_output(output_id: str, session: SessionDep) -> Response:
    """A released output table as CSV, with its SHA-256 in `X-Fedlink-SHA256`. No token."""
    output = airlock.public_output(session, output_id=output_id)
    return Response(output.content, media_type="text/csv; charset=utf-8",
                    headers={"X-Fedlink-SHA256": output.sha256})
