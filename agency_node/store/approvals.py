"""Persistence of steward decisions and pinned project salts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agency_node.store.models import Approval


def get_approval(session: Session, *, project_id: str) -> Approval | None:
    return session.get(Approval, project_id)


def save_decision(session: Session, *, project_id: str, values: dict[str, Any]) -> Approval:
    """Insert or replace the decision for ``project_id``. A pinned salt is kept for the
    life of the project, whatever is decided later."""
    approval = session.get(Approval, project_id)
    if approval is None:
        approval = Approval(project_id=project_id, **values)
        session.add(approval)
    else:
        for key, value in values.items():
            setattr(approval, key, value)
    session.flush()
    return approval


def salt_owner(session: Session, *, salt: str) -> str | None:
    """The project this salt is pinned to, if any."""
    stmt = select(Approval.project_id).where(Approval.salt == salt).limit(1)
    return session.scalars(stmt).first()


def pin_salt(session: Session, *, project_id: str, salt: str, pinned_at: str) -> bool:
    """Pin ``salt`` if none is pinned yet; True when this call pinned it (atomic)."""
    stmt = (
        update(Approval)
        .where(Approval.project_id == project_id, Approval.salt.is_(None))
        .values(salt=salt, salt_pinned_at=pinned_at)
    )
    result = session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))
