"""Scheduled refreshes: the linkage runs an agreement's ``refresh_frequency`` asks for.

A project agreed as ``annual``, ``semiannual``, ``quarterly`` or ``monthly`` is linked again
that many months after its last succeeded run (docs/refresh.md). The hub's sweep
(:func:`hub.services.extract_destruction.sweep`, in-process every ``extract_sweep_seconds``
or ``fedlink hub sweep``) calls :func:`start_due_refreshes`, which starts a run of every
project that is due, acting as :data:`hub.domain.roles.SYSTEM` — audited
``request.linking`` and ``linkage_run.requested`` (``detail.trigger = "schedule"``), then
run by the worker like a run governance started (same checks, same signed decisions).

A refresh is due when all of these hold:

* ``refresh_frequency`` is not ``once``;
* the project is ``ready`` (a first run is governance's decision; ``linking`` means a run
  is active; ``amending`` waits for the amendment's decision; ended projects never run);
* last succeeded run's end + the interval ≤ now, and — after a failed run since then —
  that failure's end + ``refresh_retry_hours`` ≤ now, so a node that is down is not
  asked again on every sweep;
* the approved term is not over and the due day falls within it;
* no run of the project is queued or running, and the checks any run must pass hold
  (:func:`hub.services.runs.run_problem`).

:func:`refresh_schedule` says when the next refresh is due (``next_refresh_due``) or why
none will be; the project's detail, ``GET /v1/requests/{id}/refresh``, ``fedlink run list``
and the web project page show it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import SYSTEM, Caller
from hub.errors import HubError
from hub.persistence import requests as request_store
from hub.persistence import runs as run_store
from hub.services.context import HubContext
from hub.services.runs import queue_run, run_problem
from hub.services.terms import in_force_dsa, load_dsa

log = logging.getLogger("hub.refresh")
S = RequestStatus
#: Months between refreshes, by the agreement's ``refresh_frequency`` (``once``: none).
INTERVAL_MONTHS: Final = {"annual": 12, "semiannual": 6, "quarterly": 3, "monthly": 1}
#: Project states in which refreshes are scheduled at all (``linking``: one is running).
SCHEDULED_STATES: Final = (S.READY.value, S.LINKING.value, "amending")


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` that many calendar months later (31 January + 1 → 28/29 February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class RefreshSchedule:
    """When a project's next scheduled refresh is due, or why none is."""

    project_id: str
    refresh_frequency: str
    last_refreshed_at: dt.datetime | None
    next_refresh_due: dt.datetime | None
    #: Why no refresh is scheduled, or why a due one has not started; ``None`` when it
    #: will simply start at ``next_refresh_due``.
    note: str | None
    #: The sweep starts it now: due, and nothing stands in the way.
    due_now: bool = False

    def as_view(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {"project_id": self.project_id, "refresh_frequency": self.refresh_frequency,
                "last_refreshed_at": iso(self.last_refreshed_at),
                "next_refresh_due": iso(self.next_refresh_due), "note": self.note}


def refresh_schedule(session: Session, ctx: HubContext, request: Request) -> RefreshSchedule:
    """The project's refresh schedule as of now (no write, no audit: status only), by the
    agreement in force (while ``amending``, not the proposal under review)."""
    dsa = in_force_dsa(request)
    frequency = dsa.refresh_frequency
    last = run_store.latest_succeeded(session, project_id=request.id)
    last_at = last.finished_at if last is not None else None

    def schedule(due: dt.datetime | None, note: str | None, *,
                 due_now: bool = False) -> RefreshSchedule:
        return RefreshSchedule(request.id, frequency, last_at, due, note, due_now)

    months = INTERVAL_MONTHS.get(frequency)
    if months is None:
        return schedule(None, "the agreement asks for one linkage only (refresh_frequency "
                              "once): the project is never refreshed")
    if request.status == S.APPROVED or (last_at is None
                                        and request.status in SCHEDULED_STATES):
        return schedule(None, "no succeeded linkage run yet: governance starts the first; "
                              "refreshes follow it")
    if request.status not in SCHEDULED_STATES or last_at is None:
        return schedule(None, f"the project is {request.status}: refreshes are scheduled "
                              "only while it is ready")
    due = add_months(last_at, months)
    failed = _failed_since(session, request.id, last_at)
    if failed is not None:  # do not ask a node that is down again on every sweep
        due = max(due, failed + dt.timedelta(hours=ctx.settings.refresh_retry_hours))
    now = ctx.now()
    term_end = request.approved_term_end
    if term_end is not None and (term_end < now.date() or due.date() > term_end):
        return schedule(None, f"the term ends {term_end.isoformat()}, before another "
                              "refresh would be due")
    if due > now:
        return schedule(due, None)
    active = run_store.active_run(session, project_id=request.id)
    if active is not None:
        return schedule(due, f"run {active.id} is {active.status}; the next refresh is "
                             "counted from its end")
    if request.status != S.READY:
        return schedule(due, f"the project is {request.status}; the refresh starts once it "
                             "is ready again")
    problem = run_problem(session, request, dsa)
    if problem is not None:
        return schedule(due, f"due, but no run may start: {problem}")
    return schedule(due, None, due_now=True)


def _failed_since(session: Session, project_id: str,
                  since: dt.datetime) -> dt.datetime | None:
    """The end of the newest failed run that ended after ``since``, if any."""
    ends = [run.finished_at for run in run_store.list_runs(session, project_id=project_id)
            if run.status == "failed" and run.finished_at is not None
            and run.finished_at > since]
    return max(ends, default=None)


def start_due_refreshes(ctx: HubContext, caller: Caller = SYSTEM) -> list[str]:
    """Start a linkage run of every project whose scheduled refresh is due; the run ids.

    One transaction per project, on its locked row (a second sweeper finds the run active).
    Idempotent: a started run makes the project ``linking``, so the next sweep skips it.
    """
    with ctx.session_factory() as session:
        candidates = [r.id for r in request_store.list_requests(session, statuses=[S.READY])]
    started = []
    for project_id in candidates:
        try:
            run_id = _start_if_due(ctx, caller, project_id)
        except (HubError, SQLAlchemyError) as exc:  # one project never stops the others
            log.warning("scheduled refresh of %s not started (%s); the next sweep tries "
                        "again", project_id, type(exc).__name__)
            continue
        if run_id is not None:
            started.append(run_id)
            log.info("scheduled refresh of %s: run %s", project_id, run_id)
    return started


def _start_if_due(ctx: HubContext, caller: Caller, project_id: str) -> str | None:
    with ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=project_id, lock=True)
        if request is None:
            return None
        schedule = refresh_schedule(session, ctx, request)
        if not schedule.due_now or schedule.next_refresh_due is None:
            return None
        run = queue_run(session, ctx, caller, request, load_dsa(request), detail={
            "trigger": "schedule", "refresh_frequency": schedule.refresh_frequency,
            "due": schedule.next_refresh_due.isoformat()})
        session.commit()
        return run.id


def upcoming_refreshes(ctx: HubContext) -> list[RefreshSchedule]:
    """Every project with a next refresh due (soonest first), for ``fedlink hub sweep``."""
    with ctx.session_factory() as session:
        rows = request_store.list_requests(session, statuses=list(SCHEDULED_STATES))
        schedules = [refresh_schedule(session, ctx, r) for r in rows]
    dated = [s for s in schedules if s.next_refresh_due is not None]
    return sorted(dated, key=lambda s: (s.next_refresh_due or dt.datetime.max, s.project_id))


def get_refresh_schedule(session: Session, ctx: HubContext, caller: Caller, *,
                         request_id: str) -> RefreshSchedule:
    """The schedule of a project the caller may see (404 otherwise). Status polling like
    the run list, so not audited (docs/hub.md, "Which reads are audited")."""
    from hub.services.requests import visible_request

    return refresh_schedule(session, ctx, visible_request(session, caller,
                                                          request_id=request_id))
