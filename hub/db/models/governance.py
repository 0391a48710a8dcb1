"""Governance statements signed by the members' own keys (docs/hub.md, "Governance keys").

The hub holds only public keys and the signed statements: it relays them to nodes, which
verify them against the roster they pinned. Nothing here lets the hub sign for a member.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime


class GovernanceKey(Base):
    """A governance member's Ed25519 public key, registered by the member's own token."""

    __tablename__ = "governance_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class GovernanceRoster(Base):
    """One roster version with the members' signatures over it, as verified on arrival."""

    __tablename__ = "governance_rosters"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    roster: Mapped[dict[str, Any]] = mapped_column(JSON)
    signatures: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class GovernanceDecisionRecord(Base):
    """A member's signed decision over a project's terms, in one review round."""

    __tablename__ = "governance_decisions"
    __table_args__ = (UniqueConstraint("request_id", "round", "kid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    kid: Mapped[str] = mapped_column(ForeignKey("governance_keys.kid"))
    decision: Mapped[str] = mapped_column(String(16))
    project_digest: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RevocationRecord(Base):
    """A signed revocation of a project and which nodes it was pushed to."""

    __tablename__ = "governance_revocations"

    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    kid: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    pushed_to: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
