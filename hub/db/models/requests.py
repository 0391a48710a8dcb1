"""Research requests (data sharing agreements), reviews and agency steward decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime


class Request(Base):
    """A research request. ``dsa`` holds the validated agreement document
    (:class:`hub.services.schemas.DataSharingAgreement`); lifecycle fields are columns."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    researcher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(300))
    dsa: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Incremented at every submission; reviews count only within the current round.
    round: Mapped[int] = mapped_column(Integer, default=0)
    #: Set when governance asks for changes; cleared by an edit; resubmission needs it clear.
    needs_edit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    first_submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Who decided a denial: ``agency`` or ``governance`` (public, no names).
    denial_category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: A denial's reason written for the public (the transparency list shows it;
    #: ``decision_reason`` stays internal). ``None`` on denials from before migration 0012.
    public_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Fixed at approval: the project's token salt (base64url) and the approved term.
    project_salt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_term_start: Mapped[dt.date | None] = mapped_column(nullable=True)
    approved_term_end: Mapped[dt.date | None] = mapped_column(nullable=True)


class RequestAgency(Base):
    """Which agencies' data a request asks for (for stewards' and nodes' queries)."""

    __tablename__ = "request_agencies"

    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), primary_key=True)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("request_id", "reviewer_id", "round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    round: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    #: A denial's reason for the public (required with ``deny``; '' otherwise).
    public_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AgencyDecision(Base):
    """A verified, node-signed steward decision; the envelope is kept as evidence."""

    __tablename__ = "agency_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    round: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    terms_digest: Mapped[str] = mapped_column(String(128))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
