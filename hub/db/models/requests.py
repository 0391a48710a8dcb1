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
    #: The version of the agreement in force (:class:`AgreementVersion`); 0 before approval.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The review round whose decisions authorise the version in force: match requests
    #: carry that round's signed governance decisions, and an amendment round carries
    #: over the steward approvals of agencies whose terms did not change from it.
    approved_round: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AgreementVersion(Base):
    """One version of an approved project's agreement (docs/amendments.md): the original
    (version 1, at approval), then each amendment, extension or renewal proposed. While a
    proposal is under review ``Request.dsa`` holds it and the version in force is its row
    here; a decided proposal is ``in_force`` (the one before it ``superseded``), or
    ``denied``, ``returned`` (governance asked for changes) or ``withdrawn``."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("request_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    #: ``original``, ``amendment``, ``extension`` or ``renewal``.
    kind: Mapped[str] = mapped_column(String(16))
    dsa: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Why the researcher proposes it (empty for the original).
    reason: Mapped[str] = mapped_column(Text, default="")
    #: ``proposed``, ``in_force``, ``superseded``, ``denied``, ``returned``, ``withdrawn``.
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: The review round that decides (decided) this version.
    round: Mapped[int] = mapped_column(Integer)
    #: The project's status when the proposal was made: where a decision returns it.
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: The outcome's reason once decided (internal, as ``Request.decision_reason``).
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Audit actor who proposed it (``user:N``; ``system`` for the original).
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


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
