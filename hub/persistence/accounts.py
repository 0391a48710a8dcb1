"""Invitations, account approvals and conflict-of-interest declarations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.base import utcnow
from hub.db.models import AccountApproval, ConflictDeclaration, Invitation, User


def create_invitation(
    session: Session, *, code_hash: str, name: str, role: str, email: str | None,
    agency_code: str | None, institution: str | None, created_by: str,
    expires_at: dt.datetime,
) -> Invitation:
    invitation = Invitation(
        code_hash=code_hash, name=name, role=role, email=email, agency_code=agency_code,
        institution=institution, created_by=created_by, created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(invitation)
    session.flush()
    return invitation


def find_invitation(session: Session, *, code_hash: str, lock: bool = False) -> Invitation | None:
    query = select(Invitation).where(Invitation.code_hash == code_hash)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def list_invitations(session: Session) -> list[Invitation]:
    return list(session.scalars(select(Invitation).order_by(Invitation.id)))


def count_activated(session: Session, *, role: str) -> int:
    """Accounts of ``role`` that were ever activated (deactivation does not lower it)."""
    return int(session.scalar(
        select(func.count()).select_from(User)
        .where(User.role == role, User.activated_at.is_not(None))
    ) or 0)


def pending_users(session: Session) -> list[User]:
    return list(session.scalars(
        select(User).where(User.activated_at.is_(None)).order_by(User.id)
    ))


def add_approval(session: Session, *, user_id: int, approver_id: int) -> AccountApproval:
    approval = AccountApproval(user_id=user_id, approver_id=approver_id, created_at=utcnow())
    session.add(approval)
    session.flush()
    return approval


def approver_ids(session: Session, *, user_id: int) -> list[int]:
    return list(session.scalars(
        select(AccountApproval.approver_id).where(AccountApproval.user_id == user_id)
        .order_by(AccountApproval.id)
    ))


def get_declaration(session: Session, *, request_id: str,
                    user_id: int) -> ConflictDeclaration | None:
    return session.scalars(select(ConflictDeclaration).where(
        ConflictDeclaration.request_id == request_id, ConflictDeclaration.user_id == user_id,
    )).first()


def set_declaration(session: Session, *, request_id: str, user_id: int, conflicted: bool,
                    reason: str) -> ConflictDeclaration:
    """Record (or replace) a member's declaration on a request."""
    row = get_declaration(session, request_id=request_id, user_id=user_id)
    if row is None:
        row = ConflictDeclaration(request_id=request_id, user_id=user_id,
                                  conflicted=conflicted, reason=reason, created_at=utcnow())
        session.add(row)
    else:
        row.conflicted, row.reason, row.created_at = conflicted, reason, utcnow()
    session.flush()
    return row


def declarations(session: Session, *, request_id: str) -> list[ConflictDeclaration]:
    return list(session.scalars(
        select(ConflictDeclaration).where(ConflictDeclaration.request_id == request_id)
        .order_by(ConflictDeclaration.id)
    ))
