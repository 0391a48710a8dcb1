"""Persistence of governance keys, the signed roster chain, signed governance decisions and
revocations (hub/db/models/governance.py). Verification happens in the service first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.base import utcnow
from hub.db.models import (
    GovernanceDecisionRecord,
    GovernanceKey,
    GovernanceRoster,
    RevocationRecord,
)


def get_key(session: Session, *, kid: str) -> GovernanceKey | None:
    return session.get(GovernanceKey, kid)


def keys_of(session: Session, *, user_id: int) -> list[GovernanceKey]:
    stmt = select(GovernanceKey).where(GovernanceKey.user_id == user_id)
    return list(session.scalars(stmt))


def add_key(session: Session, *, kid: str, user_id: int, public_key: str) -> GovernanceKey:
    row = GovernanceKey(kid=kid, user_id=user_id, public_key=public_key,
                        registered_at=utcnow())
    session.add(row)
    session.flush()
    return row


def rosters(session: Session) -> list[GovernanceRoster]:
    """Every roster version, oldest first."""
    return list(session.scalars(select(GovernanceRoster).order_by(GovernanceRoster.version)))


def latest_roster(session: Session) -> GovernanceRoster | None:
    stmt = select(GovernanceRoster).order_by(GovernanceRoster.version.desc()).limit(1)
    return session.scalars(stmt).first()


def add_roster(session: Session, *, version: int, digest: str, roster: dict[str, Any],
               signatures: list[Any]) -> None:
    session.add(GovernanceRoster(version=version, digest=digest, roster=roster,
                                 signatures=signatures, created_at=utcnow()))
    session.flush()


def decisions(session: Session, *, request_id: str,
              round_: int) -> list[GovernanceDecisionRecord]:
    stmt = (select(GovernanceDecisionRecord)
            .where(GovernanceDecisionRecord.request_id == request_id,
                   GovernanceDecisionRecord.round == round_)
            .order_by(GovernanceDecisionRecord.id))
    return list(session.scalars(stmt))


def add_decision(session: Session, *, request_id: str, round_: int, kid: str, decision: str,
                 project_digest: str, envelope: dict[str, Any]) -> None:
    session.add(GovernanceDecisionRecord(
        request_id=request_id, round=round_, kid=kid, decision=decision,
        project_digest=project_digest, envelope=envelope, created_at=utcnow()))
    session.flush()


def get_revocation(session: Session, *, request_id: str) -> RevocationRecord | None:
    return session.get(RevocationRecord, request_id)


def add_revocation(session: Session, *, request_id: str, kid: str, reason: str,
                   envelope: dict[str, Any]) -> RevocationRecord:
    row = RevocationRecord(request_id=request_id, kid=kid, reason=reason, envelope=envelope,
                           pushed_to=[], created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def revocations_for(session: Session, *, request_ids: list[str]) -> list[RevocationRecord]:
    if not request_ids:
        return []
    stmt = select(RevocationRecord).where(RevocationRecord.request_id.in_(request_ids))
    return list(session.scalars(stmt))
