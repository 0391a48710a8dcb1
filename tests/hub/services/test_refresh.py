"""Scheduled refreshes (hub.services.refresh, docs/refresh.md): the sweep starts a linkage run
when the agreement's refresh_frequency makes one due, as the system, and never for a `once`
project, a project whose term is over, or one with a run in progress. Time moves with the
hub's fake clock; the linkage worker's success is played by ``_succeed`` (the worker itself
is exercised in tests/hub/runs/test_scheduled_refresh_e2e.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from hub.db.models import AuditEvent, LinkageRun
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import OPERATOR
from hub.persistence import requests as request_store
from hub.persistence import runs as run_store
from hub.services.extract_destruction import sweep
from hub.services.refresh import add_months
from hub.services.requests import move

DAY = dt.timedelta(days=1)


@pytest.fixture
def hub(make_hub: Any) -> Any:
    """K12 and HE enrolled; API tokens that outlive the years the clock moves."""
    instance = make_hub(user_token_ttl_days=3650)
    instance.enroll("K12")
    instance.enroll("HE")
    return instance


def _term(days: int) -> dict[str, str]:
    today = dt.date.today()
    return {"term_start": (today - dt.timedelta(days=30)).isoformat(),
            "term_end": (today + dt.timedelta(days=days)).isoformat()}


def _approved(hub: Any, researcher: str, **overrides: Any) -> str:
    request_id = hub.submitted_request(researcher, **{**_term(3 * 365), **overrides})
    for agency in ("K12", "HE"):
        assert hub.decide(request_id, agency).status_code == 200
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    assert hub.status(request_id, researcher) == "approved"
    return request_id


def _start(hub: Any, request_id: str, governance: str) -> str:
    response = hub.client.post(f"/v1/requests/{request_id}/runs", headers=hub.auth(governance))
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _succeed(hub: Any, run_id: str) -> None:
    """What the worker's finish_success does to the run and the project (no results)."""
    ctx = hub.ctx
    with ctx.session_factory() as session:
        run = run_store.get_run(session, run_id=run_id, lock=True)
        assert run is not None and run.status == "queued"
        run.status, run.started_at, run.finished_at = "succeeded", ctx.now(), ctx.now()
        request = request_store.get_request(session, request_id=run.project_id, lock=True)
        assert request is not None
        move(session, ctx, OPERATOR, request, RequestStatus.READY, action="request.ready")
        session.commit()


def _fail(hub: Any, run_id: str) -> None:
    ctx = hub.ctx
    with ctx.session_factory() as session:
        run = run_store.get_run(session, run_id=run_id, lock=True)
        assert run is not None
        run.status, run.finished_at, run.failure_code = "failed", ctx.now(), "node_unreachable"
        request = request_store.get_request(session, request_id=run.project_id, lock=True)
        assert request is not None
        move(session, ctx, OPERATOR, request, RequestStatus.READY, action="request.ready")
        session.commit()


def _ready(hub: Any, **overrides: Any) -> tuple[str, str, str, str]:
    """A ready project (its first run, started by governance, succeeded just now)."""
    researcher, governance = hub.token("researcher"), hub.token("governance")
    request_id = _approved(hub, researcher, **overrides)
    run_id = _start(hub, request_id, governance)
    _succeed(hub, run_id)
    assert hub.status(request_id, researcher) == "ready"
    return request_id, researcher, governance, run_id


def _runs(hub: Any, request_id: str) -> list[LinkageRun]:
    with hub.ctx.session_factory() as session:
        return run_store.list_runs(session, project_id=request_id)


def _schedule(hub: Any, request_id: str, token: str) -> dict[str, Any]:
    response = hub.client.get(f"/v1/requests/{request_id}/refresh", headers=hub.auth(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _status(hub: Any, request_id: str) -> str:
    with hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=request_id)
        assert request is not None
        return request.status


def _finished_at(hub: Any, run_id: str) -> dt.datetime:
    with hub.ctx.session_factory() as session:
        run = run_store.get_run(session, run_id=run_id)
        assert run is not None and run.finished_at is not None
        return run.finished_at


def test_add_months_keeps_the_day_or_takes_the_month_end() -> None:
    moment = dt.datetime(2027, 1, 31, 9, 30, tzinfo=dt.UTC)
    assert add_months(moment, 1) == dt.datetime(2027, 2, 28, 9, 30, tzinfo=dt.UTC)
    assert add_months(moment, 13) == dt.datetime(2028, 2, 29, 9, 30, tzinfo=dt.UTC)
    assert add_months(moment, 12) == dt.datetime(2028, 1, 31, 9, 30, tzinfo=dt.UTC)
    assert add_months(dt.datetime(2026, 11, 15, tzinfo=dt.UTC), 3).date() == dt.date(2027, 2, 15)


def test_scheduled_refresh_starts_when_due_audited_as_the_system(hub: Any) -> None:
    request_id, researcher, _, first = _ready(hub, refresh_frequency="quarterly")
    due = add_months(_finished_at(hub, first), 3)
    schedule = _schedule(hub, request_id, researcher)
    assert schedule["refresh_frequency"] == "quarterly" and schedule["note"] is None
    assert dt.datetime.fromisoformat(schedule["next_refresh_due"]) == due
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert dt.datetime.fromisoformat(detail["next_refresh_due"]) == due

    hub.clock.offset = due - dt.datetime.now(dt.UTC) - DAY  # a day early: nothing
    assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []
    assert [r.id for r in _runs(hub, request_id)] == [first]

    hub.clock.offset = due - dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    started = sweep(hub.ctx, OPERATOR)["refreshes_started"]
    runs = _runs(hub, request_id)
    assert len(started) == 1 and [r.id for r in runs] == [started[0], first]
    assert runs[0].status == "queued" and runs[0].requested_by == "system"
    assert runs[0].previous_status == "ready"
    assert hub.status(request_id, researcher) == "linking"
    with hub.ctx.session_factory() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.detail)
                                 .where(AuditEvent.project == request_id)
                                 .order_by(AuditEvent.seq)).all()
    linking, requested = [e for e in events if e.action != "request.viewed"][-2:]
    assert (linking.action, linking.actor) == ("request.linking", "system")
    assert (requested.action, requested.actor) == ("linkage_run.requested", "system")
    assert requested.detail["trigger"] == "schedule"
    assert requested.detail["refresh_frequency"] == "quarterly"
    # Idempotent: the project is linking now, so the next sweep starts nothing.
    assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []
    # Once the refresh succeeds, the next one is counted from its end.
    _succeed(hub, started[0])
    schedule = _schedule(hub, request_id, researcher)
    assert dt.datetime.fromisoformat(schedule["next_refresh_due"]) == add_months(
        _finished_at(hub, started[0]), 3)


def test_once_project_is_never_refreshed(hub: Any) -> None:
    request_id, researcher, _, first = _ready(hub, refresh_frequency="once",
                                              **_term(10 * 365))
    schedule = _schedule(hub, request_id, researcher)
    assert schedule["next_refresh_due"] is None and "once" in schedule["note"]
    for years in (1, 2, 5):
        hub.clock.offset = dt.timedelta(days=365 * years)
        assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []
    assert [r.id for r in _runs(hub, request_id)] == [first]
    assert _status(hub, request_id) == "ready"  # (the API tokens expired meanwhile)


def test_project_whose_term_is_over_is_not_refreshed(hub: Any) -> None:
    request_id, researcher, _, first = _ready(hub, refresh_frequency="monthly", **_term(20))
    schedule = _schedule(hub, request_id, researcher)
    # The next refresh would be due after the term ends: none is scheduled.
    assert schedule["next_refresh_due"] is None and "term ends" in schedule["note"]
    hub.clock.offset = dt.timedelta(days=45)
    done = sweep(hub.ctx, OPERATOR)
    assert done["projects_expired"] == [request_id] and done["refreshes_started"] == []
    assert [r.id for r in _runs(hub, request_id)] == [first]
    assert hub.status(request_id, researcher) == "expired"


def test_run_in_progress_blocks_the_scheduled_refresh(hub: Any) -> None:
    request_id, researcher, governance, first = _ready(hub, refresh_frequency="monthly")
    manual = _start(hub, request_id, governance)  # governance re-runs by hand
    hub.clock.offset = dt.timedelta(days=40)  # the monthly refresh is overdue
    assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []
    runs = _runs(hub, request_id)
    assert [r.id for r in runs] == [manual, first] and runs[0].status == "queued"
    schedule = _schedule(hub, request_id, researcher)
    assert manual in schedule["note"] and "queued" in schedule["note"]
    # When the manual run ends, the schedule counts from it: not due for a month.
    _succeed(hub, manual)
    assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []
    assert dt.datetime.fromisoformat(_schedule(hub, request_id, researcher)[
        "next_refresh_due"]) == add_months(_finished_at(hub, manual), 1)


def test_failed_refresh_is_tried_again_after_the_retry_hours(hub: Any) -> None:
    request_id, researcher, _, _first = _ready(hub, refresh_frequency="monthly")
    hub.clock.offset = dt.timedelta(days=32)
    (refresh,) = sweep(hub.ctx, OPERATOR)["refreshes_started"]
    _fail(hub, refresh)
    retry_at = _finished_at(hub, refresh) + dt.timedelta(hours=24)
    schedule = _schedule(hub, request_id, researcher)
    assert dt.datetime.fromisoformat(schedule["next_refresh_due"]) == retry_at
    hub.clock.offset += dt.timedelta(hours=23)
    assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []  # not on every sweep
    hub.clock.offset += dt.timedelta(hours=2)
    assert len(sweep(hub.ctx, OPERATOR)["refreshes_started"]) == 1


def test_approved_project_without_a_run_waits_for_governance(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = _approved(hub, researcher, refresh_frequency="monthly")
    hub.clock.offset = dt.timedelta(days=70)
    assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []
    assert _runs(hub, request_id) == []
    schedule = _schedule(hub, request_id, researcher)
    assert schedule["next_refresh_due"] is None and "governance" in schedule["note"]


def test_refresh_schedule_is_visible_to_readers_of_the_project_only(hub: Any) -> None:
    request_id, researcher, governance, _ = _ready(hub)
    for token in (researcher, governance, hub.token("auditor"),
                  hub.token("steward", agency="K12")):
        assert _schedule(hub, request_id, token)["refresh_frequency"] == "annual"
    other = hub.client.get(f"/v1/requests/{request_id}/refresh",
                           headers=hub.auth(hub.token("researcher")))
    assert other.status_code == 404 and other.json()["error"] == "not_found"


def test_project_being_amended_is_not_refreshed(hub: Any) -> None:
    request_id, researcher, _, first = _ready(hub, refresh_frequency="monthly")
    agreement = hub.client.get(f"/v1/requests/{request_id}",
                               headers=hub.auth(researcher)).json()["agreement"]
    proposed = hub.client.post(
        f"/v1/requests/{request_id}/amendments", headers=hub.auth(researcher),
        json={"kind": "amendment", "reason": "One more question.",
              "agreement": {**agreement, "research_questions": [
                  *agreement["research_questions"], "Does attendance matter too?"]}})
    assert proposed.status_code == 201, proposed.text
    assert _status(hub, request_id) == "amending"
    hub.clock.offset = dt.timedelta(days=40)  # the monthly refresh is overdue
    assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []
    assert [r.id for r in _runs(hub, request_id)] == [first]
    assert "amending" in _schedule(hub, request_id, researcher)["note"]
