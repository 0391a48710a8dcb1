"""Linkage runs, their clusters and links: queries in the caller's transaction.

Results are pseudonymous ids only (:mod:`hub.db.models.runs`). Inserting results is bulk
(``executemany`` in chunks), so a run of a million records does not build a million ORM
objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from hub.db.models import Job, LinkageRun, RunCluster, RunLink

#: Rows per ``executemany`` when storing results.
CHUNK_ROWS: Final = 10_000
ACTIVE: Final = ("queued", "running")


def create_run(session: Session, *, run_id: str, project_id: str, job_id: int,
               previous_status: str, requested_by: str, agencies: Sequence[str],
               now: dt.datetime) -> LinkageRun:
    run = LinkageRun(
        id=run_id, project_id=project_id, job_id=job_id, status="queued",
        previous_status=previous_status, requested_by=requested_by, agencies=list(agencies),
        attempt=0, requested_at=now, steps=[], counts={},
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, *, run_id: str, lock: bool = False) -> LinkageRun | None:
    query = select(LinkageRun).where(LinkageRun.id == run_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def list_runs(session: Session, *, project_id: str) -> list[LinkageRun]:
    """The project's runs, newest first."""
    query = (select(LinkageRun).where(LinkageRun.project_id == project_id)
             .order_by(LinkageRun.requested_at.desc(), LinkageRun.id.desc()))
    return list(session.scalars(query))


def active_run(session: Session, *, project_id: str) -> LinkageRun | None:
    """The project's queued or running run, if there is one."""
    query = select(LinkageRun).where(LinkageRun.project_id == project_id,
                                     LinkageRun.status.in_(ACTIVE))
    return session.scalars(query).first()


def latest_succeeded(session: Session, *, project_id: str) -> LinkageRun | None:
    """The project's newest succeeded run: the one whose results are current."""
    query = (select(LinkageRun)
             .where(LinkageRun.project_id == project_id, LinkageRun.status == "succeeded")
             .order_by(LinkageRun.finished_at.desc(), LinkageRun.id.desc()))
    return session.scalars(query).first()


def active_runs_with_jobs(session: Session) -> list[tuple[LinkageRun, Job | None]]:
    """Every queued or running run with its job (for reconciling the two)."""
    query = (select(LinkageRun, Job).outerjoin(Job, Job.id == LinkageRun.job_id)
             .where(LinkageRun.status.in_(ACTIVE)).order_by(LinkageRun.requested_at))
    return [(run, job) for run, job in session.execute(query)]


def delete_results(session: Session, *, run_id: str) -> None:
    """Remove a run's clusters and links (a resumed attempt starts from nothing)."""
    session.execute(delete(RunCluster).where(RunCluster.run_id == run_id))
    session.execute(delete(RunLink).where(RunLink.run_id == run_id))


def _chunked(rows: Iterable[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def add_clusters(session: Session, *, run_id: str,
                 rows: Iterable[tuple[str, str, int]]) -> int:
    """Store ``(agency, pid, cluster_id)`` rows; returns how many."""
    count = 0
    for chunk in _chunked({"run_id": run_id, "agency": agency, "pid": pid,
                           "cluster_id": int(cluster)} for agency, pid, cluster in rows):
        session.execute(insert(RunCluster), chunk)
        count += len(chunk)
    return count


def add_links(session: Session, *, run_id: str,
              rows: Iterable[tuple[str, str, str, str, float, float]]) -> int:
    """Store ``(agency_a, pid_a, agency_b, pid_b, weight, probability)`` rows."""
    count = 0
    for chunk in _chunked(
        {"run_id": run_id, "agency_a": a, "pid_a": pa_, "agency_b": b, "pid_b": pb,
         "weight": float(weight), "probability": float(probability)}
        for a, pa_, b, pb, weight, probability in rows
    ):
        session.execute(insert(RunLink), chunk)
        count += len(chunk)
    return count


def clusters(session: Session, *, run_id: str) -> list[RunCluster]:
    query = (select(RunCluster).where(RunCluster.run_id == run_id)
             .order_by(RunCluster.cluster_id, RunCluster.agency, RunCluster.pid))
    return list(session.scalars(query))


def links(session: Session, *, run_id: str) -> list[RunLink]:
    query = select(RunLink).where(RunLink.run_id == run_id).order_by(RunLink.id)
    return list(session.scalars(query))


def releases_anyone(session: Session, *, run_id: str, agencies: Sequence[str],
                    include_unmatched: bool) -> bool:
    """Whether an extract of ``agencies`` from the run would hold anybody: a cluster with
    records of two of them (a link), or — ``include_unmatched`` — any of their records
    (:func:`hub.extracts.assembly.plan_persons` decides who, from the same rows)."""
    query = select(RunCluster.cluster_id).where(RunCluster.run_id == run_id,
                                                RunCluster.agency.in_(list(agencies)))
    if not include_unmatched:
        query = (query.group_by(RunCluster.cluster_id)
                 .having(func.count(func.distinct(RunCluster.agency)) >= 2))
    return session.scalar(query.limit(1)) is not None


def result_counts(session: Session, *, run_id: str) -> dict[str, int]:
    """Stored rows of a run (clusters rows, distinct clusters, links)."""
    rows = session.scalar(select(func.count()).where(RunCluster.run_id == run_id)) or 0
    distinct = session.scalar(select(func.count(func.distinct(RunCluster.cluster_id)))
                              .where(RunCluster.run_id == run_id)) or 0
    linked = session.scalar(select(func.count()).where(RunLink.run_id == run_id)) or 0
    return {"records": int(rows), "clusters": int(distinct), "links": int(linked)}
