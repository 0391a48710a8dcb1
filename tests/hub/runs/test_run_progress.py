"""Run progress as the nodes answer: a node's step is recorded the moment that node
finishes (not when every node has), a node that finished keeps ``succeeded`` when another
fails after it, and the lease heartbeat that races the run's final commit reports no lost
lease."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx
import pytest

from hub.persistence import runs as run_store
from hub.services.jobs import JobQueue, LeaseHeartbeat
from hub.services.run_state import JOB_KIND

HE_ROUTE = "127.0.0.1:18102"


def _k12_step(federation: Any, run_id: str) -> dict[str, Any]:
    with federation.hub.ctx.session_factory() as session:
        run = run_store.get_run(session, run_id=run_id)
        assert run is not None
        return next(s for s in run.steps if s.get("agency") == "K12")


class SlowHE(httpx.BaseTransport):
    """HE answers only once K12's step is recorded ``succeeded`` (or after 5 s), then with
    the real node or ``answer``; records what it saw while it waited."""

    def __init__(self, federation: Any, run_id: str, answer: httpx.Response | None) -> None:
        self.federation, self.run_id, self.answer = federation, run_id, answer
        self.k12_while_he_ran: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            status = _k12_step(self.federation, self.run_id)["status"]
            if status == "succeeded":
                break
            time.sleep(0.05)
        self.k12_while_he_ran = status
        if self.answer is not None:
            return self.answer
        return self.federation.transports["HE"].handle_request(request)


def test_a_node_is_recorded_done_when_it_finishes_not_when_all_do(federation: Any) -> None:
    federation.approved_project()
    run = federation.start_run()
    slow = SlowHE(federation, run["id"], answer=None)
    federation.router.routes[HE_ROUTE] = slow
    federation.worker().run_once()
    assert slow.k12_while_he_ran == "succeeded"  # recorded while HE was still answering
    assert federation.run(run["id"])["status"] == "succeeded"


def test_a_node_that_finished_keeps_done_when_another_fails_after_it(federation: Any) -> None:
    federation.approved_project()
    run = federation.start_run()
    refusal = httpx.Response(403, json={"error": "not_approved", "detail": "withdrawn"})
    slow = SlowHE(federation, run["id"], answer=refusal)
    federation.router.routes[HE_ROUTE] = slow
    federation.worker().run_once()
    done = federation.run(run["id"])
    assert done["status"] == "failed" and done["failure"]["agency"] == "HE"
    steps = {s.get("agency"): s for s in done["steps"] if s["step"] == "node"}
    assert steps["K12"]["status"] == "succeeded" and steps["K12"]["counts"]["records"] > 0
    assert steps["HE"]["status"] == "failed"


def test_heartbeat_racing_the_final_commit_reports_no_lost_lease(
        federation: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hub.jobs")
    federation.approved_project()
    federation.start_run()
    queue = JobQueue(federation.hub.ctx.session_factory, clock=federation.hub.ctx.now)
    job = queue.claim("worker:a", [JOB_KIND], lease_seconds=3)
    assert job is not None
    stop = threading.Event()
    beat = LeaseHeartbeat(queue, job, 3, stop)  # beats every second
    beat.start()
    queue.complete(job, result={"done": True})  # the run's store commits first
    time.sleep(1.5)  # the next beat finds the job no longer running
    assert not beat.is_alive()  # it saw the job settled by its own attempt, and ended
    beat.finish()
    assert not beat.lost and not stop.is_set()
    assert "lease lost" not in caplog.text


def test_heartbeat_of_a_reclaimed_job_still_stops_the_run(federation: Any) -> None:
    federation.approved_project()
    federation.start_run()
    queue = JobQueue(federation.hub.ctx.session_factory, clock=federation.hub.ctx.now)
    job = queue.claim("worker:a", [JOB_KIND], lease_seconds=3)
    assert job is not None
    stop = threading.Event()
    beat = LeaseHeartbeat(queue, job, 3, stop)
    beat.start()
    queue.cancel(job.id, "cancelled by the operator")  # not this attempt's own ending
    assert stop.wait(3)
    beat.finish()
    assert beat.lost
