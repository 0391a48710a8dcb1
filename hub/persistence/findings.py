"""Findings reports, the stewards' comments and objections on them, and publications."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from hub.db.models import FindingsComment, FindingsReport, Publication


def create_report(session: Session, *, values: dict[str, Any]) -> FindingsReport:
    report = FindingsReport(**values)
    session.add(report)
    session.flush()
    return report


def get_report(session: Session, *, report_id: str, lock: bool = False) -> FindingsReport | None:
    query = select(FindingsReport).where(FindingsReport.id == report_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def list_reports(session: Session, *, project_ids: Iterable[str] | None = None,
                 statuses: Iterable[str] | None = None) -> list[FindingsReport]:
    """Reports oldest first, without their file bytes (loaded only if read)."""
    query = (select(FindingsReport).options(defer(FindingsReport.content))
             .order_by(FindingsReport.created_at, FindingsReport.id))
    if project_ids is not None:
        query = query.where(FindingsReport.project_id.in_(list(project_ids)))
    if statuses is not None:
        query = query.where(FindingsReport.status.in_(list(statuses)))
    return list(session.scalars(query))


def add_comment(session: Session, *, values: dict[str, Any]) -> FindingsComment:
    row = FindingsComment(**values)
    session.add(row)
    session.flush()
    return row


def get_comment(session: Session, *, report_id: str, comment_id: int,
                lock: bool = False) -> FindingsComment | None:
    query = select(FindingsComment).where(FindingsComment.id == comment_id,
                                          FindingsComment.report_id == report_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def comments(session: Session, *, report_id: str) -> list[FindingsComment]:
    query = (select(FindingsComment).where(FindingsComment.report_id == report_id)
             .order_by(FindingsComment.id))
    return list(session.scalars(query))


def create_publication(session: Session, *, values: dict[str, Any]) -> Publication:
    row = Publication(**values)
    session.add(row)
    session.flush()
    return row


def list_publications(session: Session, *,
                      project_ids: Iterable[str] | None = None) -> list[Publication]:
    query = select(Publication).order_by(Publication.published_on, Publication.id)
    if project_ids is not None:
        query = query.where(Publication.project_id.in_(list(project_ids)))
    return list(session.scalars(query))
