"""Linkage runs of a project: start one (governance), follow them, read the report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hub.api.deps import ContextDep, GovernanceCaller, RequestReaderCaller, SessionDep
from hub.api.responses import USER_CHANGE, USER_OBJECT
from hub.api.schemas_runs import RunView
from hub.api.schemas_views import returns
from hub.services import runs
from hub.services.runs import run_view

router = APIRouter(prefix="/v1/requests/{request_id}/runs", tags=["linkage runs"])


@router.post("", responses=USER_CHANGE, **returns(RunView),
             status_code=202, summary="Start a linkage run of an approved (or ready) "
             "project; it is queued for the hub's worker [governance]")
def start(request_id: str, caller: GovernanceCaller, session: SessionDep,
          ctx: ContextDep) -> dict[str, Any]:
    """Queue a privacy-preserving linkage run of an approved (or ready) project for the hub's
    worker. 409 while another run is active or when the agreement does not authorise
    matching."""
    return run_view(runs.start_run(session, ctx, caller, request_id=request_id))


@router.get("", responses=USER_OBJECT, **returns(list[RunView]),
            summary="The project's runs, newest first, without their reports "
            "[researcher (own), governance, steward (own agency), auditor]")
def list_runs(request_id: str, caller: RequestReaderCaller, session: SessionDep,
              ctx: ContextDep) -> list[dict[str, Any]]:
    """The project's runs, newest first, without their quality reports."""
    return [run_view(r, with_report=False)
            for r in runs.list_runs(session, ctx, caller, request_id=request_id)]


@router.get("/{run_id}", responses=USER_OBJECT, **returns(RunView),
            summary="One run: status, progress steps with counts, timings, "
            "failure reason, quality report [researcher (own), governance, steward (own "
            "agency), auditor]")
def get(request_id: str, run_id: str, caller: RequestReaderCaller, session: SessionDep,
        ctx: ContextDep) -> dict[str, Any]:
    """One run: status, progress steps with counts, timings, the failure (code, node, reason)
    and the quality report. Never a pid."""
    return run_view(runs.get_run(session, ctx, caller, request_id=request_id, run_id=run_id))


@router.get("/{run_id}/report.html", responses=USER_OBJECT, response_class=HTMLResponse,
            summary="The run's self-contained HTML quality report [as above]")
def report(request_id: str, run_id: str, caller: RequestReaderCaller, session: SessionDep,
           ctx: ContextDep) -> HTMLResponse:
    """The run's quality report as one self-contained HTML page (no script)."""
    html = runs.report_html(session, ctx, caller, request_id=request_id, run_id=run_id)
    return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; "
                                       "style-src 'unsafe-inline'; img-src data:"})
