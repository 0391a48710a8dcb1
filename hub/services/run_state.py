"""The linkage worker's state changes, each one transaction with its audit event.

Every function here is one use case of :mod:`hub.services.run_worker`: begin an attempt,
record a node's answer or the engine's progress, store the results, fail the run, put an
interrupted run back in the queue, and reconcile runs with their jobs. Writes on behalf of
an attempt are fenced twice: the run row must still be ``running`` *this* attempt (else
:class:`~hub.persistence.jobs.LeaseLostError`), and finishing also completes or fails the
job through :mod:`hub.persistence.jobs`, whose guarded update refuses a worker that lost
its lease — so a worker that was presumed dead can never overwrite a newer attempt.

Project states (docs/linkage-runs.md): a run ends ``linking → ready`` when it succeeds and
``linking → <the state it was started from>`` (``approved``, or ``ready`` for a re-run whose
earlier results still stand) when it fails.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy.orm import Session

from hub.db.models import LinkageRun, Request
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller, Principal
from hub.errors import ConfigError, HubError
from hub.linkage import LinkageResult
from hub.node_client import node_url
from hub.persistence import agencies as agency_store
from hub.persistence import jobs
from hub.persistence import requests as request_store
from hub.persistence import runs as store
from hub.persistence.jobs import ClaimedJob, LeaseLostError
from hub.services import audit
from hub.services.context import HubContext
from hub.services.governance import project_decisions
from hub.services.node_fetch import NodeAnswer, NodeTarget
from hub.services.requests import move
from hub.services.terms import load_dsa, request_project_terms
from protocol.signing import describe_validation_error
from protocol.wire import MatchRequest, ProjectScope

S = RequestStatus
JOB_KIND = "linkage_run"
INTERRUPTED = "interrupted by hub restart"


def worker_caller(worker_id: str) -> Caller:
    """How the audit log names the worker: actor ``worker``, source its id."""
    return Caller(Principal(kind="worker", id=None, role="worker"), source=worker_id[:64])


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    project_id: str
    attempt: int
    targets: list[NodeTarget]
    #: The run's agencies that declared ``may_duplicate`` person ids when the attempt
    #: began: the engine deduplicates them (``LinkageConfig.dedup``).
    deduplicated: tuple[str, ...] = ()


class RunRefusedError(HubError):
    """The run cannot be carried out at all (no enrolled node, project changed…);
    ``agency`` names the agency concerned, if one is."""

    code = "run_not_possible"
    status = 409

    def __init__(self, message: str, *, code: str | None = None,
                 agency: str | None = None) -> None:
        super().__init__(message, code=code)
        self.agency = agency


# --- steps (progress) --------------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    return audit.format_ts(moment)


def initial_steps(agencies: list[str]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [{"step": "node", "agency": a, "status": "pending"}
                                   for a in agencies]
    return [*steps, {"step": "link", "status": "pending"}, {"step": "store", "status": "pending"}]


def _with_step(steps: list[dict[str, Any]], step: str, agency: str | None = None,
               **fields: Any) -> list[dict[str, Any]]:
    """A copy of ``steps`` with one entry updated (a new list, so the JSON column sees it)."""
    updated = []
    for entry in steps:
        if entry["step"] == step and entry.get("agency") == agency:
            entry = {**entry, **fields}
        updated.append(entry)
    return updated


def _stopped_steps(steps: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    return [{**e, "status": "stopped", "finished_at": _iso(now)} if e["status"] == "running"
            else e for e in steps]


# --- the attempt ---------------------------------------------------------------------------


def _held_run(session: Session, job: ClaimedJob, run_id: str) -> LinkageRun:
    run = store.get_run(session, run_id=run_id, lock=True)
    if run is None or run.status != "running" or run.attempt != job.attempt:
        raise LeaseLostError(f"run {run_id} is no longer attempt {job.attempt} of this worker")
    return run


def _targets(session: Session, ctx: HubContext, request: Request,
             run_id: str) -> list[NodeTarget]:
    dsa = load_dsa(request)
    if not dsa.matching_authorised or not request.project_salt:
        raise RunRefusedError(f"project {request.id} is not authorised for matching")
    term_start = request.approved_term_start or dsa.term_start
    term_end = request.approved_term_end or dsa.term_end
    terms = request_project_terms(request)
    # The members' signed decisions: nodes with a pinned roster verify the quorum themselves.
    decisions = project_decisions(session, request)
    targets = []
    for entry in dsa.variables:
        agency = agency_store.get_agency(session, code=entry.agency)
        if agency is None or agency.enrolled_at is None or not agency.url:
            raise RunRefusedError(f"agency {entry.agency} has no enrolled node to ask",
                                  code="node_not_enrolled", agency=entry.agency)
        try:
            message = MatchRequest(
                project_id=request.id, agency=entry.agency, project_salt=request.project_salt,
                project_terms=terms, run_id=run_id, governance=decisions,
                scope=ProjectScope(
                    agency=entry.agency, variables=tuple(entry.variables),
                    first_year=entry.first_year, last_year=entry.last_year,
                    cohort=entry.cohort, term_start=term_start, term_end=term_end,
                    matching_authorised=dsa.matching_authorised,
                ),
            )
        except ValidationError as exc:
            raise RunRefusedError(f"the match request for {entry.agency} is invalid: "
                                  f"{describe_validation_error(exc)}",
                                  agency=entry.agency) from None
        try:
            url = node_url(ctx.settings, agency.url)
        except ConfigError as exc:
            raise RunRefusedError(f"agency {entry.agency}: {exc}", code="insecure_node_url",
                                  agency=entry.agency) from None
        targets.append(NodeTarget(agency=entry.agency, url=url, request=message))
    return targets


def deduplicated_agencies(session: Session, agencies: list[str]) -> tuple[str, ...]:
    """The agencies among ``agencies`` whose nodes declared that their person ids may hold
    duplicates (``[mapping] person_ids = "may_duplicate"``, sent at enrollment and with
    every dictionary update); the others are linked one-to-one."""
    declared = []
    for code in agencies:
        agency = agency_store.get_agency(session, code=code)
        if agency is not None and agency.person_ids == "may_duplicate":
            declared.append(code)
    return tuple(sorted(declared))


def begin_attempt(session: Session, ctx: HubContext, job: ClaimedJob) -> RunPlan | None:
    """Start (or restart, after an interruption) the run of ``job``: discard any partial
    results of an earlier attempt, mark it running, audit, and return what to ask whom.
    Returns None when the run cannot go ahead (it is then failed, with the reason)."""
    caller = worker_caller(job.worker_id)
    run_id = str(job.payload.get("run_id", ""))
    run = store.get_run(session, run_id=run_id, lock=True)
    now = ctx.now()
    if run is None or run.status not in store.ACTIVE:
        jobs.fail(session, job=job, reason=f"run {run_id or '?'} is not waiting to run", now=now)
        session.commit()
        return None
    request = request_store.get_request(session, request_id=run.project_id, lock=True)
    assert request is not None
    store.delete_results(session, run_id=run.id)
    run.deduplicated = []
    resumed = run.attempt > 0
    run.status, run.attempt = "running", job.attempt
    run.started_at = run.started_at or now
    run.steps = initial_steps(list(run.agencies))
    audit.record(session, ctx, caller, action="linkage_run.resumed" if resumed
                 else "linkage_run.started", object_type="linkage_run", object_id=run.id,
                 project=run.project_id, detail={"attempt": job.attempt,
                                                 "agencies": list(run.agencies)})
    try:
        if request.status != S.LINKING:
            raise RunRefusedError(f"project {request.id} is {request.status}, not linking",
                                  code="project_not_linking")
        targets = _targets(session, ctx, request, run.id)
        plan = RunPlan(run_id=run.id, project_id=run.project_id, attempt=job.attempt,
                       targets=targets, deduplicated=deduplicated_agencies(
                           session, [t.agency for t in targets]))
    except RunRefusedError as exc:
        _fail(session, ctx, caller, job, run, request, code=exc.code, reason=str(exc),
              agency=exc.agency)
        session.commit()
        return None
    run.steps = [{**s, "status": "running", "started_at": _iso(now)} if s["step"] == "node"
                 else s for s in run.steps]
    # Decided once per attempt, from the declarations at its start; what the results mean.
    run.deduplicated = list(plan.deduplicated)
    session.commit()
    return plan


def node_answered(session: Session, ctx: HubContext, job: ClaimedJob, plan: RunPlan,
                  answer: NodeAnswer) -> None:
    run = _held_run(session, job, plan.run_id)
    now = ctx.now()
    counts = {"records": answer.rows, "batches": answer.batches,
              "bytes": answer.bytes, "attempts": answer.attempts}
    run.steps = _with_step(run.steps, "node", answer.agency, status="succeeded",
                           finished_at=_iso(now), seconds=answer.seconds, counts=counts)
    audit.record(session, ctx, worker_caller(job.worker_id), action="linkage_run.node_answered",
                 object_type="linkage_run", object_id=run.id, project=run.project_id,
                 agency=answer.agency, detail=counts)
    session.commit()


def link_progress(session: Session, ctx: HubContext, job: ClaimedJob, plan: RunPlan, *,
                  stage: str, completed: int, total: int) -> None:
    """The engine's progress on the ``link`` step (not audited: it changes no state)."""
    run = _held_run(session, job, plan.run_id)
    started = next((s.get("started_at") for s in run.steps if s["step"] == "link"), None)
    run.steps = _with_step(run.steps, "link", status="running",
                           started_at=started or _iso(ctx.now()),
                           counts={"stage": stage, "completed": completed, "total": total})
    session.commit()


def _linked_counts(result: LinkageResult) -> dict[str, Any]:
    """Counts of a finished engine run (ids and numbers only)."""
    summary = result.report.get("summary", {})
    sizes = np.bincount(result.clusters["cluster_id"].to_numpy()) \
        if result.clusters.num_rows else np.zeros(0, dtype=np.int64)
    return {
        "records": result.clusters.num_rows,
        "links": result.links.num_rows,
        "clusters": int((sizes > 0).sum()),
        "linked_clusters": int((sizes > 1).sum()),
        "records_in_linked_clusters": int(sizes[sizes > 1].sum()),
        **{k: summary[k] for k in ("candidates", "estimated_precision", "estimated_recall",
                                   "within_source_clusters") if k in summary},
    }


def _engine_counts(result: LinkageResult) -> dict[str, Any]:
    """Which engine linked, and for a partitioned run its tasks' seconds by stage (the
    per-task timings are in the report, ``partitions.tasks``)."""
    partitions = result.report.get("partitions", {})
    out: dict[str, Any] = {"engine": partitions.get("engine", "memory")}
    tasks = partitions.get("tasks") or []
    if tasks:
        by_stage: dict[str, float] = {}
        for task in tasks:
            by_stage[task["stage"]] = round(by_stage.get(task["stage"], 0.0) + task["seconds"], 3)
        out |= {"workers": partitions.get("workers"), "tasks": len(tasks),
                "task_seconds": by_stage,
                "slowest_task_seconds": max(t["seconds"] for t in tasks)}
    return out


def finish_success(session: Session, ctx: HubContext, job: ClaimedJob, plan: RunPlan,
                   result: LinkageResult, *, link_seconds: float) -> dict[str, Any] | None:
    """Store clusters, links and the report, end the run ``succeeded``, move the project
    to ``ready`` and complete the job — one transaction, so all or nothing. Returns the
    counts, or None when the project stopped linking meanwhile (the run is then failed)."""
    caller = worker_caller(job.worker_id)
    run = _held_run(session, job, plan.run_id)
    request = request_store.get_request(session, request_id=run.project_id, lock=True)
    assert request is not None
    now = ctx.now()
    counts = _linked_counts(result)
    run.steps = _with_step(run.steps, "link", status="succeeded", finished_at=_iso(now),
                           seconds=round(link_seconds, 3),
                           counts={**counts, **_engine_counts(result)})
    audit.record(session, ctx, caller, action="linkage_run.linked", object_type="linkage_run",
                 object_id=run.id, project=run.project_id,
                 detail={**counts, "deduplicated": list(plan.deduplicated)})
    if request.status != S.LINKING:
        _fail(session, ctx, caller, job, run, request, code="project_not_linking",
              reason=f"project {request.id} became {request.status} during the run; "
                     "nothing was stored")
        session.commit()
        return None
    store.delete_results(session, run_id=run.id)
    clusters = result.clusters
    stored = store.add_clusters(session, run_id=run.id, rows=zip(
        clusters["agency"].to_pylist(), clusters["pid"].to_pylist(),
        clusters["cluster_id"].to_pylist(), strict=True))
    links = result.links
    stored_links = store.add_links(session, run_id=run.id, rows=zip(
        *(links[c].to_pylist() for c in ("agency_a", "pid_a", "agency_b", "pid_b", "weight",
                                         "probability")), strict=True))
    done = ctx.now()
    run.status, run.finished_at = "succeeded", done
    run.counts = counts
    run.report = result.report
    run.steps = _with_step(run.steps, "store", status="succeeded", started_at=_iso(now),
                           finished_at=_iso(done), seconds=round((done - now).total_seconds(), 3),
                           counts={"cluster_rows": stored, "links": stored_links})
    audit.record(session, ctx, caller, action="linkage_run.stored", object_type="linkage_run",
                 object_id=run.id, project=run.project_id,
                 detail={"cluster_rows": stored, "links": stored_links})
    move(session, ctx, caller, request, S.READY, reason=f"linkage run {run.id} succeeded",
         action="request.ready")
    jobs.complete(session, job=job, now=done, result={"run_id": run.id, **counts})
    session.commit()
    return counts


def _fail(session: Session, ctx: HubContext, caller: Caller, job: ClaimedJob | None,
          run: LinkageRun, request: Request, *, code: str, reason: str,
          agency: str | None = None) -> None:
    now = ctx.now()
    run.status, run.finished_at = "failed", now
    run.failure_code, run.failure_agency, run.failure_reason = code, agency, reason[:2000]
    steps = run.steps
    if agency is not None:
        steps = _with_step(steps, "node", agency, status="failed", finished_at=_iso(now),
                           reason=reason[:500])
    run.steps = _stopped_steps(steps, now)
    audit.record(session, ctx, caller, action="linkage_run.failed",
                 outcome=f"failed:{code}",
                 object_type="linkage_run", object_id=run.id, project=run.project_id,
                 agency=agency or "", detail={"code": code, "reason": reason[:500],
                                              "attempt": run.attempt})
    if request.status == S.LINKING:
        back = S(run.previous_status) if run.previous_status in (S.APPROVED, S.READY) \
            else S.APPROVED
        move(session, ctx, caller, request, back, reason=f"linkage run {run.id} failed: {code}",
             action="request.link_failed")
    if job is not None:
        jobs.fail(session, job=job, reason=f"{code}: {reason}"[:2000], now=now)


def finish_failure(session: Session, ctx: HubContext, job: ClaimedJob, plan: RunPlan, *,
                   code: str, reason: str, agency: str | None = None) -> None:
    """End the run ``failed`` with its reason (naming the node when one failed it), send the
    project back and fail the job — one transaction."""
    run = _held_run(session, job, plan.run_id)
    request = request_store.get_request(session, request_id=run.project_id, lock=True)
    assert request is not None
    store.delete_results(session, run_id=run.id)
    _fail(session, ctx, worker_caller(job.worker_id), job, run, request, code=code,
          reason=reason, agency=agency)
    session.commit()


def requeue(session: Session, ctx: HubContext, job: ClaimedJob, plan: RunPlan, *,
            reason: str) -> None:
    """Give an interrupted attempt back to the queue (the hub is shutting down); the next
    attempt starts the run again from the beginning."""
    run = _held_run(session, job, plan.run_id)
    now = ctx.now()
    status = jobs.fail(session, job=job, reason=reason, now=now, retry=True)
    if status == "queued":
        run.status = "queued"
        run.steps = _stopped_steps(run.steps, now)
        audit.record(session, ctx, worker_caller(job.worker_id),
                     action="linkage_run.interrupted", object_type="linkage_run",
                     object_id=run.id, project=run.project_id,
                     detail={"attempt": run.attempt, "reason": reason})
    else:
        request = request_store.get_request(session, request_id=run.project_id, lock=True)
        assert request is not None
        _fail(session, ctx, worker_caller(job.worker_id), None, run, request,
              code="interrupted", reason=f"{INTERRUPTED}: {reason}; no attempts left")
    session.commit()


def reconcile(session: Session, ctx: HubContext, *, worker_id: str) -> list[str]:
    """Bring runs in line with their jobs after crashes and restarts: a run whose job was
    reclaimed goes back to ``queued``; one whose job ended ``failed`` (attempts used up) or
    ``cancelled`` ends ``failed`` with that reason and the project goes back. Returns the
    ids of the runs changed."""
    caller = worker_caller(worker_id)
    changed = []
    for candidate, _ in store.active_runs_with_jobs(session):
        run = store.get_run(session, run_id=candidate.id, lock=True)
        job = jobs.get_job(session, job_id=run.job_id) if run and run.job_id else None
        if run is None or run.status not in store.ACTIVE:
            continue
        if job is None or job.status in ("failed", "cancelled"):
            request = request_store.get_request(session, request_id=run.project_id, lock=True)
            assert request is not None
            why = job.error if job is not None and job.error else "its job is gone"
            code = "cancelled" if job is not None and job.status == "cancelled" \
                else "interrupted"
            reason = why if code == "cancelled" else f"{INTERRUPTED}: {why}"
            store.delete_results(session, run_id=run.id)
            _fail(session, ctx, caller, None, run, request, code=code, reason=reason)
        elif job.status == "queued" and run.status == "running" and run.attempt == job.attempts:
            run.status = "queued"
            run.steps = _stopped_steps(run.steps, ctx.now())
            audit.record(session, ctx, caller, action="linkage_run.interrupted",
                         object_type="linkage_run", object_id=run.id, project=run.project_id,
                         detail={"attempt": run.attempt, "reason": job.error or ""})
        else:
            continue
        changed.append(run.id)
    session.commit()
    return changed
