"""The job queue on SQLite and (with FEDLINK_TEST_DATABASE_URL) PostgreSQL: claims with a
lease, heartbeats, completion, failure, cancellation, and reclaim of dead workers' leases —
and concurrent workers each taking a job exactly once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from hub.db.base import Base
from hub.db.engine import make_session_factory
from hub.errors import InvalidInputError
from hub.persistence.jobs import LeaseLostError
from hub.services.jobs import JobQueue


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def job_state(queue: JobQueue, job_id: int) -> dict[str, Any]:
    found = queue.status(job_id)
    assert found is not None
    return found


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(hub_engine: tuple[Engine, str], clock: Clock) -> JobQueue:
    return JobQueue(make_session_factory(hub_engine[0]), clock=clock)


def test_hub_migrations_create_exactly_the_models(hub_engine: tuple[Engine, str]) -> None:
    with hub_engine[0].connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_job_claimed_then_completed_with_result(queue: JobQueue) -> None:
    job_id = queue.enqueue("linkage_run", {"run": "r1"}, project_id="P-1")
    job = queue.claim("worker-a", ["linkage_run"], lease_seconds=30)
    assert job is not None
    assert (job.id, job.attempt, job.payload, job.project_id) == (job_id, 1, {"run": "r1"}, "P-1")
    assert job_state(queue, job_id)["status"] == "running"
    queue.complete(job, {"matches": 12})
    state = job_state(queue, job_id)
    assert (state["status"], state["result"], state["error"]) == ("succeeded", {"matches": 12},
                                                                   None)
    assert queue.claim("worker-a", ["linkage_run"]) is None
    with pytest.raises(LeaseLostError):  # a finished job cannot be finished again
        queue.complete(job)


def test_claim_takes_oldest_job_of_requested_kinds_only(queue: JobQueue) -> None:
    other = queue.enqueue("extract", {})
    first = queue.enqueue("linkage_run", {"n": 1})
    second = queue.enqueue("linkage_run", {"n": 2})
    claimed = [queue.claim("w", ["linkage_run"]) for _ in range(3)]
    assert [job.id if job else None for job in claimed] == [first, second, None]
    assert job_state(queue, other)["status"] == "queued"


def test_job_of_dead_worker_resumes_with_next_attempt_and_old_worker_is_fenced(
        queue: JobQueue, clock: Clock) -> None:
    job_id = queue.enqueue("linkage_run", {})
    dead = queue.claim("worker-a", ["linkage_run"], lease_seconds=30)
    assert dead is not None
    clock.advance(29)
    assert queue.claim("worker-b", ["linkage_run"]) is None  # lease still held
    clock.advance(2)
    resumed = queue.claim("worker-b", ["linkage_run"], lease_seconds=30)
    assert resumed is not None and (resumed.id, resumed.attempt) == (job_id, 2)
    assert "attempt 1 lost: worker worker-a" in job_state(queue, job_id)["error"]
    for stale in (lambda: queue.heartbeat(dead), lambda: queue.complete(dead),
                  lambda: queue.fail(dead, "x")):
        with pytest.raises(LeaseLostError, match="no longer held by worker-a"):
            stale()
    queue.complete(resumed)
    assert job_state(queue, job_id)["status"] == "succeeded"


def test_restarted_worker_with_same_id_cannot_finish_its_old_attempt(
        queue: JobQueue, clock: Clock) -> None:
    queue.enqueue("linkage_run", {})
    before = queue.claim("worker-a", ["linkage_run"], lease_seconds=10)
    clock.advance(11)
    after = queue.claim("worker-a", ["linkage_run"], lease_seconds=10)
    assert before is not None and after is not None and after.attempt == 2
    with pytest.raises(LeaseLostError):
        queue.complete(before)
    queue.complete(after)


def test_job_fails_with_reason_when_every_attempt_lost_its_worker(
        queue: JobQueue, clock: Clock) -> None:
    job_id = queue.enqueue("linkage_run", {}, max_attempts=2)
    for worker in ("w1", "w2"):
        assert queue.claim(worker, ["linkage_run"], lease_seconds=5) is not None
        clock.advance(6)
    reclaimed = queue.reclaim_expired()
    assert [(r.id, r.status) for r in reclaimed] == [(job_id, "failed")]
    state = job_state(queue, job_id)
    assert state["status"] == "failed" and state["attempts"] == 2
    assert "worker w2 stopped renewing its lease" in state["error"]
    assert "gave up after 2 of 2 attempts" in state["error"]
    assert queue.claim("w3", ["linkage_run"]) is None


def test_heartbeat_keeps_a_long_job_with_its_worker(queue: JobQueue, clock: Clock) -> None:
    queue.enqueue("linkage_run", {})
    job = queue.claim("w1", ["linkage_run"], lease_seconds=10)
    assert job is not None
    for _ in range(5):
        clock.advance(8)
        job = queue.heartbeat(job, lease_seconds=10)
        assert queue.claim("w2", ["linkage_run"]) is None
    assert job.lease_expires_at == clock.now + dt.timedelta(seconds=10)
    queue.complete(job)


def test_fail_with_retry_requeues_after_delay_until_attempts_are_used(
        queue: JobQueue, clock: Clock) -> None:
    job_id = queue.enqueue("linkage_run", {}, max_attempts=2)
    first = queue.claim("w", ["linkage_run"])
    assert first is not None
    assert queue.fail(first, "node K12 unreachable", retry=True, retry_delay_seconds=60) == "queued"
    assert queue.claim("w", ["linkage_run"]) is None  # not before the delay
    clock.advance(61)
    second = queue.claim("w", ["linkage_run"])
    assert second is not None and second.attempt == 2
    assert queue.fail(second, "node K12 unreachable", retry=True) == "failed"
    state = job_state(queue, job_id)
    assert (state["status"], state["error"]) == ("failed", "node K12 unreachable")


def test_cancelled_running_job_makes_its_worker_stop(queue: JobQueue) -> None:
    job_id = queue.enqueue("linkage_run", {})
    job = queue.claim("w", ["linkage_run"])
    assert job is not None
    assert queue.cancel(job_id, "project revoked") is True
    with pytest.raises(LeaseLostError, match="now cancelled"):
        queue.heartbeat(job)
    assert queue.cancel(job_id, "again") is False


def test_enqueue_refuses_bulk_data_as_payload(queue: JobQueue) -> None:
    with pytest.raises(InvalidInputError, match="payload"):
        queue.enqueue("linkage_run", {"rows": ["x" * 100] * 1000})


def test_concurrent_workers_claim_each_job_exactly_once(
        hub_engine: tuple[Engine, str]) -> None:
    engine, _ = hub_engine
    queue = JobQueue(make_session_factory(engine))
    jobs_total, workers = 60, 6
    expected = {queue.enqueue("linkage_run", {"n": n}) for n in range(jobs_total)}
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def work(name: str) -> None:
        try:
            start.wait(timeout=30)
            while (job := queue.claim(name, ["linkage_run"], lease_seconds=300)) is not None:
                with lock:
                    claimed.append(job.id)
                queue.complete(job, {"by": name})
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert Counter(claimed).most_common(1)[0][1] == 1
    assert set(claimed) == expected
    statuses = {job_state(queue, job_id)["status"] for job_id in expected}
    assert statuses == {"succeeded"}
