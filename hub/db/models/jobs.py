"""Background jobs (linkage runs and the like), claimed by workers with a lease.

A job is ``queued`` until a worker claims it (``running``, ``worker_id``, ``attempts`` + 1,
``lease_expires_at``); the worker heartbeats to extend the lease and ends it ``succeeded``
or ``failed``. A lease that runs out (the worker died) puts the job back to ``queued`` — or
ends it ``failed`` with the reason once ``max_attempts`` claims have been used — so no job
hangs in ``running`` forever. ``payload`` and ``result`` hold ids, codes and counts only,
never an identity value (docs/trust-model.md, rule 1). See :mod:`hub.persistence.jobs`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime

JOB_STATUSES: Final = ("queued", "running", "succeeded", "failed", "cancelled")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name="status",
        ),
        # The claim query: the oldest claimable job of some kinds.
        Index("ix_jobs_claim", "status", "kind", "available_at", "id"),
        # The reclaim query: running jobs whose lease ran out.
        Index("ix_jobs_lease", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Not claimable before this time (set at enqueue and when a failed attempt is retried).
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Why the last attempt failed or why the job ended ``failed``/``cancelled`` (a sentence
    #: of codes and counts, never values).
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
