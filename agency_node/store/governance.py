"""Persistence of the governance roster chain, verified governance approvals and
revocations. Callers verify before they save; these functions only store and read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency_node.store.models import (
    GovernanceApproval,
    GovernanceRosterVersion,
    ProjectRevocation,
    StewardKey,
    StewardSignature,
)


def latest_roster(session: Session) -> GovernanceRosterVersion | None:
    """The newest roster version this node accepted (None before one is pinned)."""
    stmt = select(GovernanceRosterVersion).order_by(GovernanceRosterVersion.version.desc())
    return session.scalars(stmt.limit(1)).first()


def first_roster(session: Session) -> GovernanceRosterVersion | None:
    return session.get(GovernanceRosterVersion, 1)


def add_roster(session: Session, *, version: int, digest: str, roster: dict[str, Any],
               signatures: list[Any], accepted_at: str) -> None:
    session.add(GovernanceRosterVersion(version=version, digest=digest, roster=roster,
                                        signatures=signatures, accepted_at=accepted_at))
    session.flush()


def get_governance_approval(session: Session, *, project_id: str) -> GovernanceApproval | None:
    return session.get(GovernanceApproval, project_id)


def save_governance_approval(session: Session, *, project_id: str, project_digest: str,
                             roster_version: int, decisions: list[Any],
                             verified_at: str) -> None:
    """Insert or replace the verified approval of ``project_id``."""
    row = session.get(GovernanceApproval, project_id)
    values = {"project_digest": project_digest, "roster_version": roster_version,
              "decisions": decisions, "verified_at": verified_at}
    if row is None:
        session.add(GovernanceApproval(project_id=project_id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()


def get_revocation(session: Session, *, project_id: str) -> ProjectRevocation | None:
    return session.get(ProjectRevocation, project_id)


def add_revocation(session: Session, *, project_id: str, signer_kid: str, reason: str,
                   revoked_at: str, received_at: str, envelope: dict[str, Any]) -> bool:
    """Record the first verified revocation of ``project_id``; False when one is known."""
    if session.get(ProjectRevocation, project_id) is not None:
        return False
    session.add(ProjectRevocation(project_id=project_id, signer_kid=signer_kid, reason=reason,
                                  revoked_at=revoked_at, received_at=received_at,
                                  envelope=envelope))
    session.flush()
    return True


def steward_keys(session: Session) -> list[StewardKey]:
    return list(session.scalars(select(StewardKey).order_by(StewardKey.kid)))


def add_steward_key(session: Session, *, kid: str, label: str, public_key: str,
                    added_at: str) -> bool:
    """Register a steward key; False when it is registered already."""
    if session.get(StewardKey, kid) is not None:
        return False
    session.add(StewardKey(kid=kid, label=label, public_key=public_key, added_at=added_at))
    session.flush()
    return True


def save_steward_signature(session: Session, *, project_id: str, steward_kid: str,
                           envelope: dict[str, Any], signed_at: str) -> None:
    row = session.get(StewardSignature, project_id)
    if row is None:
        session.add(StewardSignature(project_id=project_id, steward_kid=steward_kid,
                                     envelope=envelope, signed_at=signed_at))
    else:
        row.steward_kid, row.envelope, row.signed_at = steward_kid, envelope, signed_at
    session.flush()


def get_steward_signature(session: Session, *, project_id: str) -> StewardSignature | None:
    return session.get(StewardSignature, project_id)
