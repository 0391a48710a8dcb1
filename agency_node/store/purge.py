"""Persistence of purges: deleting a project's issued pseudonym map and remembering it."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from agency_node.store.models import Approval, IssuedPid, PurgedProject


def ended_projects(session: Session, *, today: str) -> list[str]:
    """Projects whose approved term ended before ``today`` (ISO date)."""
    stmt = select(Approval.project_id).where(Approval.term_end < today)
    return list(session.scalars(stmt.order_by(Approval.project_id)))


def count_issued(session: Session, *, project_id: str) -> int:
    stmt = select(func.count()).select_from(IssuedPid).where(IssuedPid.project_id == project_id)
    return int(session.scalar(stmt) or 0)


def delete_issued(session: Session, *, project_id: str) -> int:
    """Delete the project's pid → record map; how many rows went."""
    result = session.execute(delete(IssuedPid).where(IssuedPid.project_id == project_id))
    return int(getattr(result, "rowcount", 0) or 0)


def get_purged(session: Session, *, project_id: str) -> PurgedProject | None:
    return session.get(PurgedProject, project_id)


def record_purge(session: Session, *, project_id: str, reason: str, purged_at: str,
                 pids: int) -> PurgedProject:
    """Remember the (first) purge of a project; later purges add their count."""
    row = session.get(PurgedProject, project_id)
    if row is None:
        row = PurgedProject(project_id=project_id, reason=reason, purged_at=purged_at, pids=pids)
        session.add(row)
    else:
        row.pids += pids
    session.flush()
    return row
