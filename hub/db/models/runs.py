"""Linkage runs of approved projects and what they produce (docs/linkage-runs.md).

A :class:`LinkageRun` is the governance-visible record of one run; the work itself is a
``linkage_run`` job (:mod:`hub.db.models.jobs`). Its results are rows of project-scoped
pseudonymous ids (``pid``) only: :class:`RunCluster` places each pid a node sent in a
cluster, :class:`RunLink` holds the accepted links with their match weight. No identity
value (name, birth date, SSN, address, local record id) is ever stored (docs/trust-model.md,
rule 1); ``steps``, ``counts``, ``report`` and the failure fields hold codes, counts and
timings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime

RUN_STATUSES: Final = ("queued", "running", "succeeded", "failed")


class LinkageRun(Base):
    __tablename__ = "linkage_runs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')",
                        name="status"),
        Index("ix_linkage_runs_project", "project_id", "requested_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("requests.id"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True,
                                               index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: The project's state when the run was requested (``approved`` or ``ready``): where a
    #: failed run sends it back.
    previous_status: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(64))
    agencies: Mapped[list[str]] = mapped_column(JSON)
    #: The agencies this run deduplicated (declared ``may_duplicate`` when the attempt
    #: began): the engine's ``LinkageConfig.dedup``, and the agencies whose records one
    #: cluster may hold several of (hub.extracts.assembly.plan_persons).
    deduplicated: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Progress: one entry per step (``node`` per agency, ``link``, ``store``) with its
    #: status, counts and times.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Records per agency, links and clusters of a finished run.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    failure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The agency whose node failed the run, when one did.
    failure_agency: Mapped[str | None] = mapped_column(String(32), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The engine's quality report (no pid, token or identity value; hub.linkage.report).
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class RunCluster(Base):
    """One pseudonymous record of one agency in one cluster (a person) of a run."""

    __tablename__ = "linkage_clusters"
    __table_args__ = (Index("ix_linkage_clusters_cluster", "run_id", "cluster_id"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("linkage_runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
    pid: Mapped[str] = mapped_column(String(64), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(Integer)


class RunLink(Base):
    """An accepted link between two agencies' pseudonymous records."""

    __tablename__ = "linkage_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("linkage_runs.id", ondelete="CASCADE"),
                                        index=True)
    agency_a: Mapped[str] = mapped_column(String(32))
    pid_a: Mapped[str] = mapped_column(String(64))
    agency_b: Mapped[str] = mapped_column(String(32))
    pid_b: Mapped[str] = mapped_column(String(64))
    #: Fellegi–Sunter match weight in bits and the posterior match probability.
    weight: Mapped[float] = mapped_column(Float)
    probability: Mapped[float] = mapped_column(Float)
