"""The transparency log's tables: hub checkpoints, witness co-signatures, node-log
checkpoints; and the leaves, read from the audit events (``hub.db.models.tlog``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.models import AuditEvent, NodeLogCheckpoint, TlogCheckpoint, TlogCosignature


def event_hashes(session: Session, *, start: int = 0, end: int | None = None) -> list[str]:
    """The chain hashes of events ``start + 1 .. end`` (leaves ``start .. end - 1``)."""
    query = select(AuditEvent.hash).where(AuditEvent.seq > start).order_by(AuditEvent.seq)
    if end is not None:
        query = query.where(AuditEvent.seq <= end)
    return list(session.scalars(query))


def event_count(session: Session) -> int:
    return int(session.scalar(select(func.count(AuditEvent.seq))) or 0)


def latest_checkpoint(session: Session) -> TlogCheckpoint | None:
    query = select(TlogCheckpoint).order_by(TlogCheckpoint.size.desc()).limit(1)
    return session.scalars(query).first()


def get_checkpoint(session: Session, *, size: int) -> TlogCheckpoint | None:
    return session.get(TlogCheckpoint, size)


def list_checkpoints(session: Session) -> list[TlogCheckpoint]:
    return list(session.scalars(select(TlogCheckpoint).order_by(TlogCheckpoint.size)))


def add_checkpoint(session: Session, *, size: int, root_hash: str, note: str,
                   signed_at: str) -> TlogCheckpoint:
    checkpoint = TlogCheckpoint(size=size, root_hash=root_hash, note=note, signed_at=signed_at)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def list_cosignatures(session: Session) -> list[TlogCosignature]:
    query = select(TlogCosignature).order_by(TlogCosignature.size, TlogCosignature.agency)
    return list(session.scalars(query))


def last_cosigned_size(session: Session, *, agency: str) -> int:
    query = select(func.max(TlogCosignature.size)).where(TlogCosignature.agency == agency)
    return int(session.scalar(query) or 0)


def add_cosignature(session: Session, *, size: int, agency: str, witness: str, signature: str,
                    cosigned_at: int, received_at: str) -> None:
    existing = session.scalars(select(TlogCosignature).where(
        TlogCosignature.size == size, TlogCosignature.agency == agency)).first()
    if existing is not None:
        existing.signature, existing.cosigned_at = signature, cosigned_at
        existing.received_at = received_at
    else:
        session.add(TlogCosignature(size=size, agency=agency, witness=witness,
                                    signature=signature, cosigned_at=cosigned_at,
                                    received_at=received_at))
    session.flush()


def add_node_checkpoint(session: Session, *, agency: str, size: int, root_hash: str, note: str,
                        received_at: str) -> None:
    """Keep a node-log checkpoint unless the same (size, root) is already held."""
    held = session.scalars(select(NodeLogCheckpoint).where(
        NodeLogCheckpoint.agency == agency, NodeLogCheckpoint.size == size,
        NodeLogCheckpoint.root_hash == root_hash)).first()
    if held is None:
        session.add(NodeLogCheckpoint(agency=agency, size=size, root_hash=root_hash, note=note,
                                      received_at=received_at))
        session.flush()


def list_node_checkpoints(session: Session, *, agency: str | None = None
                          ) -> list[NodeLogCheckpoint]:
    query = select(NodeLogCheckpoint).order_by(NodeLogCheckpoint.agency, NodeLogCheckpoint.size)
    if agency:
        query = query.where(NodeLogCheckpoint.agency == agency)
    return list(session.scalars(query))
