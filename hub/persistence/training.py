"""Training records of people (safe people, hub.services.training)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import TrainingRecord


def add_record(session: Session, *, user_id: int, training: str, completed_on: dt.date,
               expires_on: dt.date, recorded_by: str,
               recorded_at: dt.datetime) -> TrainingRecord:
    """Add one completion (flushed, not committed)."""
    record = TrainingRecord(user_id=user_id, training=training, completed_on=completed_on,
                            expires_on=expires_on, recorded_by=recorded_by,
                            recorded_at=recorded_at)
    session.add(record)
    session.flush()
    return record


def list_records(session: Session, *, user_id: int) -> list[TrainingRecord]:
    """A person's completions, newest expiry first."""
    query = (select(TrainingRecord).where(TrainingRecord.user_id == user_id)
             .order_by(TrainingRecord.expires_on.desc(), TrainingRecord.id.desc()))
    return list(session.scalars(query))
