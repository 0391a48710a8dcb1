"""The audit hash chain: events, the single head row, and signed checkpoints.

Event times are stored as the exact ISO text that was hashed (fixed width, UTC, ``Z``), so
the chain re-verifies byte for byte on every backend and sorts as text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(128), default="")
    project: Mapped[str] = mapped_column(String(32), default="", index=True)
    agency: Mapped[str] = mapped_column(String(32), default="", index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row (id 1): the last sequence number and hash; locked by every append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(32))
    kid: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
