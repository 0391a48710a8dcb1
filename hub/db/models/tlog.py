"""The transparency log over the audit events (docs/hub.md, "Transparency log").

The leaves are the audit events themselves (leaf ``seq - 1`` is ``leaf_hash(event.hash)``),
so these tables hold only what the tree cannot recompute: the hub's signed checkpoints,
the co-signatures each witness (agency node) returned, and the node-log checkpoints each
node signed and handed back with its co-signature.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class TlogCheckpoint(Base):
    """A checkpoint the hub signed (C2SP signed note, hub signature only)."""

    __tablename__ = "tlog_checkpoints"

    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[str] = mapped_column(String(32))


class TlogCosignature(Base):
    """One witness's cosignature/v1 line over the checkpoint of ``size``."""

    __tablename__ = "tlog_cosignatures"
    __table_args__ = (UniqueConstraint("size", "agency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    agency: Mapped[str] = mapped_column(String(32), index=True)
    witness: Mapped[str] = mapped_column(String(128))
    signature: Mapped[str] = mapped_column(Text)
    cosigned_at: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[str] = mapped_column(String(32))


class NodeLogCheckpoint(Base):
    """A checkpoint of an agency node's own audit log, signed by the node's key."""

    __tablename__ = "node_log_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency: Mapped[str] = mapped_column(String(32), index=True)
    size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    received_at: Mapped[str] = mapped_column(String(32))
