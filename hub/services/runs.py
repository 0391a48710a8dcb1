"""Linkage runs as the API sees them: start one, list them, read one and its report.

Starting a run is a governance decision on an approved project (docs/linkage-runs.md): the
project must be ``approved`` (a first run) or ``ready`` (a re-run or refresh), matching must
be authorised, at least two agencies must be asked, and no other run of the project may be
queued or running. The project moves to ``linking``, the run row and its ``linkage_run``
job are created and the request is audited — one transaction. Who may read runs is who may
read the request (:func:`hub.services.requests.visible_request`): the researcher who owns
it, governance, the stewards of its agencies and auditors; reads are audited too.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import LinkageRun, Request
from hub.domain.dsa import DataSharingAgreement
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller
from hub.errors import ConflictError, NotFoundError
from hub.linkage import render_html
from hub.persistence import jobs
from hub.persistence import runs as store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.requests import move, visible_request
from hub.services.run_state import JOB_KIND
from hub.services.terms import load_dsa

S = RequestStatus
#: States a run may start from: a first run, or a re-run/refresh of a linked project.
RUNNABLE = (S.APPROVED, S.READY)


def new_run_id() -> str:
    return f"run-{secrets.token_hex(8)}"


def start_run(session: Session, ctx: HubContext, caller: Caller, *,
              request_id: str) -> LinkageRun:
    request = visible_request(session, caller, request_id=request_id, lock=True)
    dsa = load_dsa(request)
    problem = run_problem(session, request, dsa)
    if problem is not None:
        audit.refuse(session, ctx, caller, problem, action="linkage_run.refused",
                     object_type="request", object_id=request.id, project=request.id)
    run = queue_run(session, ctx, caller, request, dsa)
    session.commit()
    return run


def run_problem(session: Session, request: Request,
                dsa: DataSharingAgreement) -> ConflictError | None:
    """Why no run of ``request`` may start now (409 code and sentence), or ``None``."""
    active = store.active_run(session, project_id=request.id)
    if active is not None:
        return ConflictError(f"run {active.id} of project {request.id} is {active.status}; "
                             "wait for it to finish", code="run_in_progress")
    if request.status not in RUNNABLE:
        return ConflictError(
            f"project {request.id} is {request.status}; a linkage run needs an approved "
            "project (or a ready one, to run again)", code="not_runnable")
    if not dsa.matching_authorised or not request.project_salt:
        return ConflictError(f"project {request.id} is not authorised to match records "
                             "across data sets", code="matching_not_authorised")
    if len(dsa.agencies) < 2:
        return ConflictError(f"project {request.id} asks one agency only; linkage needs "
                             "two or more", code="too_few_agencies")
    return None


def queue_run(session: Session, ctx: HubContext, caller: Caller, request: Request,
              dsa: DataSharingAgreement, *, detail: dict[str, Any] | None = None,
              ) -> LinkageRun:
    """Create the run and its job and move the project to ``linking`` (audited; the caller
    commits). Only after :func:`run_problem` found nothing, on the locked request row."""
    now = ctx.now()
    run_id = new_run_id()
    job = jobs.enqueue(session, kind=JOB_KIND, payload={"run_id": run_id},
                       project_id=request.id, now=now,
                       max_attempts=ctx.settings.run_max_attempts)
    run = store.create_run(session, run_id=run_id, project_id=request.id, job_id=job.id,
                           previous_status=request.status, requested_by=caller.actor,
                           agencies=dsa.agencies, now=now)
    move(session, ctx, caller, request, S.LINKING, reason=f"linkage run {run_id}",
         action="request.linking")
    audit.record(session, ctx, caller, action="linkage_run.requested",
                 object_type="linkage_run", object_id=run_id, project=request.id,
                 detail={"agencies": dsa.agencies, "job": job.id,
                         "from": run.previous_status, **(detail or {})})
    return run


def list_runs(session: Session, ctx: HubContext, caller: Caller, *,
              request_id: str) -> list[LinkageRun]:
    request = visible_request(session, caller, request_id=request_id)
    # Not audited: a listing of run statuses reveals no data, and a read that appends to
    # the chain takes the write lock on every poll (docs/hub.md, "Which reads are audited").
    return store.list_runs(session, project_id=request.id)


def _visible_run(session: Session, caller: Caller, request_id: str,
                 run_id: str) -> LinkageRun:
    request = visible_request(session, caller, request_id=request_id)
    run = store.get_run(session, run_id=run_id)
    if run is None or run.project_id != request.id:
        raise NotFoundError(f"project {request.id} has no run {run_id}")
    return run


def get_run(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
            run_id: str) -> LinkageRun:
    """A run's status and counts; status polling, so not audited (see :func:`list_runs`)."""
    return _visible_run(session, caller, request_id, run_id)


def report_html(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
                run_id: str) -> str:
    """The engine's self-contained HTML quality report of a succeeded run."""
    run = _visible_run(session, caller, request_id, run_id)
    if run.report is None:
        raise ConflictError(f"run {run.id} is {run.status}; only a succeeded run has a "
                            "report", code="report_not_ready")
    audit.record(session, ctx, caller, action="linkage_run.report_viewed",
                 object_type="linkage_run", object_id=run.id, project=run.project_id)
    session.commit()
    return render_html(run.report)


def _ts(value: Any) -> str | None:
    return audit.format_ts(value) if value is not None else None


def run_view(run: LinkageRun, *, with_report: bool = True) -> dict[str, Any]:
    """A run as JSON: status, steps with counts, timings, the failure (code, the node that
    caused it, the reason) and the quality report. Never a pid."""
    seconds = None
    if run.started_at is not None and run.finished_at is not None:
        seconds = round((run.finished_at - run.started_at).total_seconds(), 3)
    view: dict[str, Any] = {
        "id": run.id,
        "project_id": run.project_id,
        "status": run.status,
        "attempt": run.attempt,
        "agencies": list(run.agencies),
        # The agencies whose duplicate-prone person ids this run deduplicated.
        "deduplicated": list(run.deduplicated or []),
        "requested_by": run.requested_by,
        "requested_at": _ts(run.requested_at),
        "started_at": _ts(run.started_at),
        "finished_at": _ts(run.finished_at),
        "seconds": seconds,
        "steps": list(run.steps or []),
        "counts": dict(run.counts or {}),
        "failure": None if run.status != "failed" else {
            "code": run.failure_code, "agency": run.failure_agency,
            "reason": run.failure_reason},
    }
    if with_report:
        view["report"] = run.report
    return view
