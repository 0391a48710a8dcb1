"""Governance policy rows: agenda items and the checklist answers of reviews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import AgendaItem, ReviewCriterionAnswer


def add_agenda_item(session: Session, *, question: str, description: str, created_by: str,
                    created_at: dt.datetime) -> AgendaItem:
    """A new active agenda item (flushed, not committed)."""
    item = AgendaItem(question=question, description=description, status="active",
                      created_by=created_by, created_at=created_at)
    session.add(item)
    session.flush()
    return item


def get_agenda_item(session: Session, *, item_id: int,
                    lock: bool = False) -> AgendaItem | None:
    query = select(AgendaItem).where(AgendaItem.id == item_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def agenda_items(session: Session, *, status: str | None = None,
                 ids: Iterable[int] | None = None) -> list[AgendaItem]:
    """Agenda items, oldest first; only those with ``status`` / among ``ids`` when given."""
    query = select(AgendaItem).order_by(AgendaItem.id)
    if status is not None:
        query = query.where(AgendaItem.status == status)
    if ids is not None:
        query = query.where(AgendaItem.id.in_(list(ids)))
    return list(session.scalars(query))


def add_criteria(session: Session, *, review_id: int,
                 answers: Iterable[tuple[str, str, bool, str]]) -> None:
    """Record ``(criterion, text, met, note)`` answers with review ``review_id``."""
    for criterion, text, met, note in answers:
        session.add(ReviewCriterionAnswer(review_id=review_id, criterion=criterion, text=text,
                                          met=met, note=note))
    session.flush()


def criteria_of(session: Session, *,
                review_ids: Iterable[int]) -> dict[int, list[ReviewCriterionAnswer]]:
    """review id → its checklist answers, in the order they were given."""
    ids = list(review_ids)
    out: dict[int, list[ReviewCriterionAnswer]] = {i: [] for i in ids}
    if not ids:
        return out
    query = (select(ReviewCriterionAnswer)
             .where(ReviewCriterionAnswer.review_id.in_(ids))
             .order_by(ReviewCriterionAnswer.id))
    for row in session.scalars(query):
        out[row.review_id].append(row)
    return out
