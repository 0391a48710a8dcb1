"""The job table as a work queue: enqueue, claim with a lease, heartbeat, complete, fail,
cancel, and reclaim of leases that ran out. Functions run in the caller's transaction
(keyword-only arguments, ``now`` passed in); :class:`hub.services.jobs.JobQueue` wraps each
in its own short transaction for workers.

Claiming is safe with any number of workers and hub processes:

* **PostgreSQL**: ``SELECT id … ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`` then an
  ``UPDATE`` of that row in the same transaction. Rows another worker is claiming are
  skipped, not waited for, so N workers take N different jobs at once.
* **SQLite**: one conditional statement, ``UPDATE jobs SET status='running' … WHERE id =
  (SELECT id … LIMIT 1) AND status='queued' RETURNING id``. SQLite runs a statement under
  its database write lock, so the read of the candidate and the write cannot interleave with
  another claim (and the hub's engine begins every transaction ``IMMEDIATE`` anyway).

Every change to a claimed job is a conditional ``UPDATE`` guarded by ``(id, status =
'running', worker_id, attempts)``: the attempt number is a fencing token, so a worker whose
lease was reclaimed — even one that restarted under the same worker id — cannot heartbeat,
complete or fail the newer attempt; it gets :class:`LeaseLostError` and must stop.

A lease that runs out means the worker died or hung. :func:`reclaim_expired` (also run at
the start of every :func:`claim`) puts such a job back to ``queued`` for another attempt or,
when ``max_attempts`` claims have been used, ends it ``failed`` with the reason — so a job
never stays ``running`` forever.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from sqlalchemy import CursorResult, func, literal, select, update
from sqlalchemy.orm import Session

from hub.db.base import UTCDateTime
from hub.db.models import Job
from hub.errors import ConflictError, InvalidInputError, NotFoundError

#: A payload says *what* to do (ids, codes); it is not a place for data.
MAX_PAYLOAD_BYTES: Final = 64 * 1024


class LeaseLostError(ConflictError):
    """The job is no longer this worker's attempt (reclaimed, cancelled or finished)."""

    code = "lease_lost"


@dataclass(frozen=True)
class ClaimedJob:
    """A job as its worker holds it; ``attempt`` fences every later change."""

    id: int
    kind: str
    project_id: str | None
    payload: dict[str, Any]
    worker_id: str
    attempt: int
    max_attempts: int
    lease_expires_at: dt.datetime


@dataclass(frozen=True)
class Reclaimed:
    id: int
    status: str  # "queued" (will be retried) or "failed" (attempts used up)
    reason: str


def enqueue(session: Session, *, kind: str, payload: dict[str, Any], now: dt.datetime,
            project_id: str | None = None, max_attempts: int = 3,
            available_at: dt.datetime | None = None) -> Job:
    """Add a ``queued`` job (in the caller's transaction, e.g. with the audit event)."""
    if not kind or len(kind) > 64:
        raise InvalidInputError("a job kind is 1 to 64 characters")
    if not 1 <= max_attempts <= 100:
        raise InvalidInputError("max_attempts must be between 1 and 100")
    if len(json.dumps(payload, default=str)) > MAX_PAYLOAD_BYTES:
        raise InvalidInputError(f"a job payload is at most {MAX_PAYLOAD_BYTES} bytes of JSON")
    job = Job(kind=kind, project_id=project_id, payload=payload, status="queued", attempts=0,
              max_attempts=max_attempts, available_at=available_at or now, created_at=now,
              updated_at=now)
    session.add(job)
    session.flush()
    return job


def _guarded(session: Session, job_id: int, holder: str, attempt: int, /,
             **values: Any) -> bool:
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.status == "running", Job.worker_id == holder,
               Job.attempts == attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def reclaim_expired(session: Session, *, now: dt.datetime) -> list[Reclaimed]:
    """Requeue (or fail, attempts used up) every running job whose lease ran out."""
    query = select(Job).where(Job.status == "running", Job.lease_expires_at < now)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    reclaimed: list[Reclaimed] = []
    for job in session.scalars(query.order_by(Job.id)).all():
        worker, attempt = job.worker_id or "?", job.attempts
        expired = job.lease_expires_at.isoformat() if job.lease_expires_at else "?"
        lost = f"worker {worker} stopped renewing its lease (expired {expired})"
        if attempt >= job.max_attempts:
            status = "failed"
            reason = f"{lost}; gave up after {attempt} of {job.max_attempts} attempts"
        else:
            status, reason = "queued", f"attempt {attempt} lost: {lost}"
        done = _guarded(session, job.id, worker, attempt, status=status, worker_id=None,
                        lease_expires_at=None, error=reason, updated_at=now,
                        finished_at=now if status == "failed" else None)
        if done:
            reclaimed.append(Reclaimed(id=job.id, status=status, reason=reason))
    session.expire_all()
    return reclaimed


def claim(session: Session, *, worker_id: str, kinds: Sequence[str], lease_seconds: int,
          now: dt.datetime) -> ClaimedJob | None:
    """Take the oldest claimable job of ``kinds`` for ``worker_id``; None when there is none."""
    if not worker_id or len(worker_id) > 128:
        raise InvalidInputError("a worker id is 1 to 128 characters")
    if lease_seconds < 1:
        raise InvalidInputError("a lease lasts at least one second")
    reclaim_expired(session, now=now)
    lease = now + dt.timedelta(seconds=lease_seconds)
    claimable = (
        select(Job.id)
        .where(Job.status == "queued", Job.kind.in_(list(kinds)), Job.available_at <= now)
        .order_by(Job.id)
        .limit(1)
    )
    values: dict[str, Any] = {
        "status": "running", "worker_id": worker_id, "attempts": Job.attempts + 1,
        "lease_expires_at": lease, "heartbeat_at": now, "updated_at": now,
        "started_at": func.coalesce(Job.started_at, literal(now, UTCDateTime())),
    }
    if session.get_bind().dialect.name == "postgresql":
        job_id = session.scalar(claimable.with_for_update(skip_locked=True))
        if job_id is None:
            return None
        session.execute(update(Job).where(Job.id == job_id).values(**values)
                        .execution_options(synchronize_session=False))
    else:
        job_id = session.scalar(
            update(Job)
            .where(Job.id == claimable.scalar_subquery(), Job.status == "queued")
            .values(**values)
            .returning(Job.id)
            .execution_options(synchronize_session=False)
        )
        if job_id is None:
            return None
    job = session.scalars(select(Job).where(Job.id == job_id)
                          .execution_options(populate_existing=True)).one()
    return ClaimedJob(id=job.id, kind=job.kind, project_id=job.project_id,
                      payload=dict(job.payload), worker_id=worker_id, attempt=job.attempts,
                      max_attempts=job.max_attempts, lease_expires_at=lease)


def heartbeat(session: Session, *, job: ClaimedJob, lease_seconds: int,
              now: dt.datetime) -> ClaimedJob:
    """Extend the lease of a job this worker holds; :class:`LeaseLostError` if it does not."""
    lease = now + dt.timedelta(seconds=lease_seconds)
    if not _guarded(session, job.id, job.worker_id, job.attempt, lease_expires_at=lease,
                    heartbeat_at=now, updated_at=now):
        raise _lost(session, job)
    return replace(job, lease_expires_at=lease)


def complete(session: Session, *, job: ClaimedJob, now: dt.datetime,
             result: dict[str, Any] | None = None) -> None:
    """Mark the job ``succeeded`` with its (small, value-free) result."""
    if not _guarded(session, job.id, job.worker_id, job.attempt, status="succeeded",
                    result=result, lease_expires_at=None, finished_at=now, updated_at=now,
                    error=None):
        raise _lost(session, job)


def fail(session: Session, *, job: ClaimedJob, reason: str, now: dt.datetime,
         retry: bool = False, retry_delay_seconds: int = 0) -> str:
    """End this attempt with ``reason``: requeued when ``retry`` and attempts are left,
    else ``failed``. Returns the job's new status."""
    retried = retry and job.attempt < job.max_attempts
    values: dict[str, Any] = {"lease_expires_at": None, "updated_at": now, "error": reason}
    if retried:
        values |= {"status": "queued", "worker_id": None,
                   "available_at": now + dt.timedelta(seconds=max(0, retry_delay_seconds))}
    else:
        values |= {"status": "failed", "finished_at": now}
    if not _guarded(session, job.id, job.worker_id, job.attempt, **values):
        raise _lost(session, job)
    return "queued" if retried else "failed"


def cancel(session: Session, *, job_id: int, reason: str, now: dt.datetime) -> bool:
    """Cancel a queued or running job (its worker's next heartbeat fails); False if it had
    already finished."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(("queued", "running")))
        .values(status="cancelled", error=reason, lease_expires_at=None, finished_at=now,
                updated_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount == 0 and session.get(Job, job_id) is None:
        raise NotFoundError(f"there is no job {job_id}")
    return result.rowcount == 1


def get_job(session: Session, *, job_id: int) -> Job | None:
    return session.scalars(select(Job).where(Job.id == job_id)
                           .execution_options(populate_existing=True)).first()


def counts(session: Session) -> dict[tuple[str, str], int]:
    """Number of jobs by ``(kind, status)``, for metrics."""
    rows = session.execute(select(Job.kind, Job.status, func.count()).group_by(Job.kind,
                                                                               Job.status))
    return {(kind, status): int(n) for kind, status, n in rows}


def _lost(session: Session, job: ClaimedJob) -> LeaseLostError:
    current = get_job(session, job_id=job.id)
    if current is None:
        return LeaseLostError(f"job {job.id} no longer exists")
    return LeaseLostError(
        f"job {job.id} attempt {job.attempt} is no longer held by {job.worker_id} "
        f"(now {current.status}, attempt {current.attempts}); stop working on it"
    )
