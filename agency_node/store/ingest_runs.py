"""Persistence of ingest runs and their quarantine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agency_node.store.models import IngestRun, QuarantinedRow


def start_run(session: Session, *, started_at: str, source: str, strict: bool) -> IngestRun:
    run = IngestRun(started_at=started_at, source=source, strict=strict, status="running",
                    encoding_fallbacks={}, audited=False)
    session.add(run)
    session.flush()
    return run


def add_quarantine(session: Session, *, run_id: int, entries: Sequence[dict[str, Any]]) -> None:
    if entries:
        session.execute(insert(QuarantinedRow), [{**e, "ingest_run_id": run_id} for e in entries])


def latest_run(session: Session) -> IngestRun | None:
    return session.scalars(select(IngestRun).order_by(IngestRun.id.desc()).limit(1)).first()


def unaudited_runs(session: Session) -> list[IngestRun]:
    """Runs whose final audit event was never written (killed mid-way, or the write failed)."""
    stmt = select(IngestRun).where(IngestRun.audited.is_(False)).order_by(IngestRun.id)
    return list(session.scalars(stmt))


def quarantine_of(session: Session, *, run_id: int) -> list[QuarantinedRow]:
    stmt = (
        select(QuarantinedRow)
        .where(QuarantinedRow.ingest_run_id == run_id)
        .order_by(QuarantinedRow.row_number, QuarantinedRow.id)
    )
    return list(session.scalars(stmt))
