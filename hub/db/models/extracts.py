"""Linked extracts, their wrapped keys, steward decisions on held extracts, and researchers'
output tables going through the airlock (docs/extracts.md).

An :class:`Extract` row is metadata only — table names and row counts, digests, the
disclosure report (counts and rules), the destruction record. The bundle itself is a file
encrypted with a per-extract key; that key exists only wrapped, in :class:`ExtractKey`, a
separate row so destroying it (crypto-shredding) is one ``DELETE`` that leaves the metadata
and its audit trail intact. No pid, agency record id or identity value is stored here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime

EXTRACT_STATUSES: Final = ("building", "available", "held", "failed", "destroyed")
OUTPUT_STATUSES: Final = ("pending_review", "released", "returned")


class Extract(Base):
    __tablename__ = "extracts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('building', 'available', 'held', 'failed', 'destroyed')",
            name="status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("linkage_runs.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Downloads end here (the end of the approved term); the sweeper destroys it after.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    formats: Mapped[list[str]] = mapped_column(JSON)
    include_unmatched: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Released variables per agency (names only).
    variables: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    #: Table name → row count, and the number of project person ids.
    tables: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    persons: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: Size of the encrypted file; SHA-256 of the plaintext bundle and of the ciphertext.
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ciphertext_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: ``hub`` (decrypted on download) or ``researcher`` (the key is also HPKE-sealed to the
    #: researcher's registered X25519 key; the ciphertext is downloaded).
    encryption: Mapped[str] = mapped_column(String(16), default="hub")
    recipient_key: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: The disclosure-control report (k, policy, per-variable rules and counts).
    disclosure: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    failure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    destroyed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    destroyed_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: What was destroyed (key, file, bytes) and, for a certification, by whom and the
    #: statement.
    destruction: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ExtractKey(Base):
    """The extract's data key, wrapped (AES-256-GCM) under the hub's key-wrapping key."""

    __tablename__ = "extract_keys"

    extract_id: Mapped[str] = mapped_column(ForeignKey("extracts.id"), primary_key=True)
    kwk_id: Mapped[str] = mapped_column(String(64))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ExtractDecision(Base):
    """A steward's release/withhold decision on an extract held by disclosure control."""

    __tablename__ = "extract_decisions"
    __table_args__ = (UniqueConstraint("extract_id", "agency_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extract_id: Mapped[str] = mapped_column(ForeignKey("extracts.id"), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    steward_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class OutputSubmission(Base):
    """A researcher's output table (CSV) in the airlock."""

    __tablename__ = "output_submissions"
    __table_args__ = (
        CheckConstraint("status IN ('pending_review', 'released', 'returned')",
                        name="status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    #: The automatic checks' result (findings name cells by label, never by value).
    checks: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OutputReview(Base):
    """One agency steward's release/return of an output, with comments."""

    __tablename__ = "output_reviews"
    __table_args__ = (UniqueConstraint("output_id", "agency_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    output_id: Mapped[str] = mapped_column(ForeignKey("output_submissions.id"), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    steward_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
