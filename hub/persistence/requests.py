"""Research requests, the agencies they concern, reviews and steward decisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hub.db.base import utcnow
from hub.db.models import AgencyDecision, Request, RequestAgency, Review


def create_request(
    session: Session, *, request_id: str, researcher_id: int, title: str, dsa: dict[str, Any],
    status: str,
) -> Request:
    now = utcnow()
    request = Request(
        id=request_id, researcher_id=researcher_id, status=status, title=title, dsa=dsa,
        round=0, created_at=now, updated_at=now, needs_edit=False,
    )
    session.add(request)
    session.flush()
    return request


def get_request(session: Session, *, request_id: str, lock: bool = False) -> Request | None:
    query = select(Request).where(Request.id == request_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def set_request_agencies(session: Session, *, request_id: str, agencies: Iterable[str]) -> None:
    session.execute(delete(RequestAgency).where(RequestAgency.request_id == request_id))
    for code in sorted(set(agencies)):
        session.add(RequestAgency(request_id=request_id, agency_code=code))
    session.flush()


def list_requests(
    session: Session,
    *,
    researcher_id: int | None = None,
    agency_code: str | None = None,
    statuses: Iterable[str] | None = None,
    exclude_statuses: Iterable[str] | None = None,
) -> list[Request]:
    query = select(Request).order_by(Request.created_at, Request.id)
    if researcher_id is not None:
        query = query.where(Request.researcher_id == researcher_id)
    if agency_code is not None:
        query = query.join(RequestAgency, RequestAgency.request_id == Request.id).where(
            RequestAgency.agency_code == agency_code
        )
    if statuses is not None:
        query = query.where(Request.status.in_(list(statuses)))
    if exclude_statuses is not None:
        query = query.where(Request.status.not_in(list(exclude_statuses)))
    return list(session.scalars(query))


def add_review(
    session: Session, *, request_id: str, reviewer_id: int, round_: int, decision: str,
    reason: str, public_reason: str = "",
) -> Review:
    review = Review(
        request_id=request_id, reviewer_id=reviewer_id, round=round_, decision=decision,
        reason=reason, public_reason=public_reason, created_at=utcnow(),
    )
    session.add(review)
    session.flush()
    return review


def reviews(session: Session, *, request_id: str, round_: int | None = None) -> list[Review]:
    query = select(Review).where(Review.request_id == request_id).order_by(Review.id)
    if round_ is not None:
        query = query.where(Review.round == round_)
    return list(session.scalars(query))


def add_agency_decision(
    session: Session, *, request_id: str, agency_code: str, round_: int, decision: str,
    reason: str, terms_digest: str, envelope: dict[str, Any],
) -> AgencyDecision:
    row = AgencyDecision(
        request_id=request_id, agency_code=agency_code, round=round_, decision=decision,
        reason=reason, terms_digest=terms_digest, envelope=envelope, received_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def agency_decisions(
    session: Session, *, request_id: str, round_: int | None = None
) -> list[AgencyDecision]:
    query = (
        select(AgencyDecision)
        .where(AgencyDecision.request_id == request_id)
        .order_by(AgencyDecision.id)
    )
    if round_ is not None:
        query = query.where(AgencyDecision.round == round_)
    return list(session.scalars(query))


def public_requests(
    session: Session, *, statuses: Iterable[str], limit: int, offset: int = 0,
) -> list[Request]:
    """The requests the public list shows, oldest first, at most ``limit`` from ``offset``:
    submitted ones in ``statuses`` (filtered in SQL, so a page is exactly the rows it
    shows)."""
    query = (
        select(Request)
        .where(Request.first_submitted_at.is_not(None))
        .where(Request.status.in_(list(statuses)))
        .order_by(Request.created_at, Request.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def submitted_counts(session: Session, *, exclude_statuses: Iterable[str]) -> dict[str, int]:
    """How many requests ever submitted are in each status (one ``GROUP BY``)."""
    query = (select(Request.status, func.count()).where(Request.first_submitted_at.is_not(None))
             .where(Request.status.not_in(list(exclude_statuses))).group_by(Request.status))
    return {str(status): int(count) for status, count in session.execute(query)}


def decision_times(session: Session, *, statuses: Iterable[str]
                   ) -> list[tuple[dt.datetime, dt.datetime]]:
    """(first submitted, decided) of every decided request in ``statuses``: two columns,
    no agreement loaded."""
    query = (select(Request.first_submitted_at, Request.decided_at)
             .where(Request.status.in_(list(statuses)))
             .where(Request.first_submitted_at.is_not(None), Request.decided_at.is_not(None)))
    return [(first, decided) for first, decided in session.execute(query)
            if first is not None and decided is not None]
