"""A scheduled refresh against real nodes: the sweep starts it as the system when the
agreement's monthly interval has passed since the last succeeded run, the worker runs it
with the same signed governance decisions as governance's own run, the nodes answer, and
the next refresh is counted from its end (docs/refresh.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from hub.db.models import LinkageRun
from hub.domain.roles import OPERATOR
from hub.services.extract_destruction import sweep
from hub.services.refresh import add_months


def _age(hub: Any, run_id: str, days: int) -> None:
    """The run ended ``days`` ago (the nodes' clocks are real, so the hub's is not moved)."""
    with hub.ctx.session_factory() as session:
        ago = dt.timedelta(days=days)
        run = session.get(LinkageRun, run_id)
        assert run is not None and run.finished_at is not None and run.started_at is not None
        session.execute(update(LinkageRun).where(LinkageRun.id == run_id).values(
            started_at=run.started_at - ago, finished_at=run.finished_at - ago,
            requested_at=run.requested_at - ago))
        session.commit()


def test_monthly_refresh_runs_against_the_nodes(federation: Any) -> None:
    hub = federation.hub
    request_id = federation.approved_project(refresh_frequency="monthly")
    first = federation.start_run()
    federation.worker().run_once()
    assert federation.run(first["id"])["status"] == "succeeded"
    assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []  # not due yet

    _age(hub, first["id"], 32)
    (refresh,) = sweep(hub.ctx, OPERATOR)["refreshes_started"]
    queued = federation.run(refresh)
    assert queued["requested_by"] == "system" and queued["status"] == "queued"
    federation.worker().run_once()
    done = federation.run(refresh)
    assert done["status"] == "succeeded", done["failure"]
    assert done["counts"]["links"] == federation.run(first["id"])["counts"]["links"]
    detail = hub.client.get(f"/v1/requests/{request_id}",
                            headers=hub.auth(federation.researcher)).json()
    assert detail["status"] == "ready"
    assert dt.datetime.fromisoformat(detail["next_refresh_due"]) == add_months(
        dt.datetime.fromisoformat(done["finished_at"]), 1)
    assert sweep(hub.ctx, OPERATOR)["refreshes_started"] == []
