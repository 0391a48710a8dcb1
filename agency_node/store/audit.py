"""Persistence of the node's audit events (the chain logic is in services/audit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency_node.store.models import AuditEvent


def last_event(session: Session) -> AuditEvent | None:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()


def insert_event(session: Session, *, values: dict[str, Any]) -> AuditEvent:
    event = AuditEvent(**values)
    session.add(event)
    session.flush()
    return event


def iter_events(session: Session, *, page_size: int = 1000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        stmt = select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq)
        page = list(session.scalars(stmt.limit(page_size)))
        if not page:
            return
        yield from page
        last = page[-1].seq


def events_with_reason(session: Session, *, reason: str, limit: int) -> list[AuditEvent]:
    """The latest ``limit`` events refused for ``reason``, oldest first."""
    stmt = (select(AuditEvent).where(AuditEvent.reason == reason)
            .order_by(AuditEvent.seq.desc()).limit(limit))
    return list(reversed(list(session.scalars(stmt))))
