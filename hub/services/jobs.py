"""``JobQueue``: the job table for a worker loop, one short transaction per operation.

A worker (the linkage worker, for instance) runs::

    queue = JobQueue(ctx.session_factory, clock=ctx.now)
    while (job := queue.claim(worker_id, ["linkage_run"], lease_seconds=60)) is not None:
        ...                                  # call queue.heartbeat(job) well within the lease
        queue.complete(job, result={...})    # or queue.fail(job, "reason", retry=True)

Enqueueing a job together with another change (a request going ``approved → linking`` and
its audit event) uses :func:`hub.persistence.jobs.enqueue` inside that change's transaction.
Semantics and locking: :mod:`hub.persistence.jobs`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hub.db.base import utcnow
from hub.persistence import jobs
from hub.persistence.jobs import ClaimedJob, LeaseLostError, Reclaimed

DEFAULT_LEASE_SECONDS = 60
log = logging.getLogger("hub.jobs")


class JobQueue:
    def __init__(self, sessions: sessionmaker[Session], *,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    def enqueue(self, kind: str, payload: dict[str, Any], *, project_id: str | None = None,
                max_attempts: int = 3) -> int:
        with self._sessions.begin() as session:
            job = jobs.enqueue(session, kind=kind, payload=payload, project_id=project_id,
                               max_attempts=max_attempts, now=self._clock())
            return job.id

    def claim(self, worker_id: str, kinds: Sequence[str], *,
              lease_seconds: int = DEFAULT_LEASE_SECONDS) -> ClaimedJob | None:
        with self._sessions.begin() as session:
            return jobs.claim(session, worker_id=worker_id, kinds=kinds,
                              lease_seconds=lease_seconds, now=self._clock())

    def heartbeat(self, job: ClaimedJob, *,
                  lease_seconds: int = DEFAULT_LEASE_SECONDS) -> ClaimedJob:
        with self._sessions.begin() as session:
            return jobs.heartbeat(session, job=job, lease_seconds=lease_seconds,
                                  now=self._clock())

    def complete(self, job: ClaimedJob, result: dict[str, Any] | None = None) -> None:
        with self._sessions.begin() as session:
            jobs.complete(session, job=job, result=result, now=self._clock())

    def fail(self, job: ClaimedJob, reason: str, *, retry: bool = False,
             retry_delay_seconds: int = 0) -> str:
        with self._sessions.begin() as session:
            return jobs.fail(session, job=job, reason=reason, retry=retry,
                             retry_delay_seconds=retry_delay_seconds, now=self._clock())

    def cancel(self, job_id: int, reason: str) -> bool:
        with self._sessions.begin() as session:
            return jobs.cancel(session, job_id=job_id, reason=reason, now=self._clock())

    def reclaim_expired(self) -> list[Reclaimed]:
        with self._sessions.begin() as session:
            return jobs.reclaim_expired(session, now=self._clock())

    def status(self, job_id: int) -> dict[str, Any] | None:
        """The job's state for display (``None`` if there is no such job)."""
        with self._sessions() as session:
            job = jobs.get_job(session, job_id=job_id)
            if job is None:
                return None
            return {
                "id": job.id, "kind": job.kind, "project_id": job.project_id,
                "status": job.status, "attempts": job.attempts,
                "max_attempts": job.max_attempts, "worker_id": job.worker_id,
                "error": job.error, "result": job.result,
            }


class LeaseHeartbeat(threading.Thread):
    """Renews the job's lease; on losing it, sets ``lost`` and the run's stop event (the linkage
    worker's runs, the assembler's builds)."""

    def __init__(self, queue: JobQueue, job: ClaimedJob, lease_seconds: int,
                 stop: threading.Event) -> None:
        super().__init__(name=f"fedlink-heartbeat-{job.id}", daemon=True)
        self._queue, self._job, self._lease = queue, job, lease_seconds
        self._stop_run, self._done = stop, threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self._done.wait(max(1.0, self._lease / 3)):
            try:
                self._job = self._queue.heartbeat(self._job, lease_seconds=self._lease)
            except LeaseLostError:
                if self._settled_by_this_attempt():
                    return  # the beat raced the final commit: nothing was lost
                log.warning("job %s: lease lost; stopping its run", self._job.id)
                self.lost = True
                self._stop_run.set()
                return
            except SQLAlchemyError as exc:
                # A database blip: try again at the next beat; the lease has slack.
                log.warning("job %s: heartbeat failed (%s)", self._job.id, type(exc).__name__)

    def _settled_by_this_attempt(self) -> bool:
        """Whether this very attempt completed or failed the job (the beat waited behind
        that commit, e.g. a run's store, and then found the job no longer ``running``)."""
        if self._done.is_set():
            return True
        try:
            now = self._queue.status(self._job.id)
        except SQLAlchemyError:
            return False
        return (now is not None and now["status"] in ("succeeded", "failed")
                and now["worker_id"] == self._job.worker_id
                and now["attempts"] == self._job.attempt)

    def finish(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join(timeout=5)
