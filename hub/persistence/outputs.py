"""Airlock outputs and stewards' reviews of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import OutputReview, OutputSubmission


def create_output(session: Session, *, values: dict[str, Any]) -> OutputSubmission:
    output = OutputSubmission(**values)
    session.add(output)
    session.flush()
    return output


def get_output(session: Session, *, output_id: str, lock: bool = False) -> OutputSubmission | None:
    query = select(OutputSubmission).where(OutputSubmission.id == output_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def list_outputs(session: Session, *, project_ids: Iterable[str] | None = None,
                 statuses: Iterable[str] | None = None) -> list[OutputSubmission]:
    query = select(OutputSubmission).order_by(OutputSubmission.created_at, OutputSubmission.id)
    if project_ids is not None:
        query = query.where(OutputSubmission.project_id.in_(list(project_ids)))
    if statuses is not None:
        query = query.where(OutputSubmission.status.in_(list(statuses)))
    return list(session.scalars(query))


def add_review(session: Session, *, output_id: str, agency_code: str, steward_id: int,
               decision: str, comments: str, now: dt.datetime) -> OutputReview:
    row = OutputReview(output_id=output_id, agency_code=agency_code, steward_id=steward_id,
                       decision=decision, comments=comments, created_at=now)
    session.add(row)
    session.flush()
    return row


def reviews(session: Session, *, output_id: str) -> list[OutputReview]:
    query = select(OutputReview).where(OutputReview.output_id == output_id).order_by(
        OutputReview.id)
    return list(session.scalars(query))
