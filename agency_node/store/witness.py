"""Persistence of co-signed hub checkpoints and of this node's signed log checkpoints."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency_node.store.models import AuditEvent, LogCheckpoint, WitnessedCheckpoint


def latest_witnessed(session: Session) -> WitnessedCheckpoint | None:
    stmt = select(WitnessedCheckpoint).order_by(WitnessedCheckpoint.size.desc()).limit(1)
    return session.scalars(stmt).first()


def list_witnessed(session: Session) -> list[WitnessedCheckpoint]:
    return list(session.scalars(select(WitnessedCheckpoint).order_by(WitnessedCheckpoint.size)))


def save_witnessed(session: Session, *, size: int, root_hash: str, note: str,
                   cosignature: str, cosigned_at: int) -> None:
    """Keep the co-signed checkpoint of ``size`` (a re-co-signature refreshes the row)."""
    session.merge(WitnessedCheckpoint(size=size, root_hash=root_hash, note=note,
                                      cosignature=cosignature, cosigned_at=cosigned_at))


def event_hashes(session: Session) -> list[str]:
    """Every audit event's chain hash in sequence order (the node log's Merkle leaves)."""
    return list(session.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq)))


def save_log_checkpoint(session: Session, *, size: int, root_hash: str, note: str) -> None:
    session.merge(LogCheckpoint(size=size, root_hash=root_hash, note=note))


def list_log_checkpoints(session: Session) -> list[LogCheckpoint]:
    return list(session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size)))
