"""Deleting a run's pid-level results and recording the purge (caller's transaction)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.db.models import LinkageRun, RunCluster, RunLink, RunPurge


def purged_run_ids(session: Session, *, project_id: str | None = None) -> set[str]:
    """Runs already purged (of one project, or of all)."""
    query = select(RunPurge.run_id)
    if project_id is not None:
        query = query.where(RunPurge.project_id == project_id)
    return set(session.scalars(query))


def get_purge(session: Session, *, run_id: str) -> RunPurge | None:
    return session.get(RunPurge, run_id)


def purge_run(session: Session, *, run: LinkageRun, reason: str,
              now: dt.datetime) -> RunPurge:
    """Delete the run's clusters and links and record how many there were."""
    clusters = session.execute(delete(RunCluster).where(RunCluster.run_id == run.id))
    links = session.execute(delete(RunLink).where(RunLink.run_id == run.id))
    row = RunPurge(run_id=run.id, project_id=run.project_id, reason=reason, purged_at=now,
                   clusters=int(getattr(clusters, "rowcount", 0) or 0),
                   links=int(getattr(links, "rowcount", 0) or 0))
    session.add(row)
    session.flush()
    return row
