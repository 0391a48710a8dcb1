"""One-time invitations, governance approvals of privileged accounts, and reviewers'
conflict-of-interest declarations (docs/hub.md, "Users, roles and invitations")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime


class Invitation(Base):
    """An account offered to one person; its code is stored as SHA-256 and works once.

    The user row exists only after the invitee redeems the code themselves
    (``user_id`` then names it), so no one but the invitee ever holds their token.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), nullable=True)
    institution: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: The audit actor who invited (``user:3``, ``operator``).
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class AccountApproval(Base):
    """One governance member's approval of a pending privileged account."""

    __tablename__ = "account_approvals"
    __table_args__ = (UniqueConstraint("user_id", "approver_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ConflictDeclaration(Base):
    """A governance member's own statement on a request: conflicted (recused) or not."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (UniqueConstraint("request_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    conflicted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
