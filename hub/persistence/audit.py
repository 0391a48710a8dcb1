"""Audit events, the chain head and checkpoints.

:func:`lock_head` must be the first thing an append does in its transaction: on PostgreSQL
it takes the head row ``FOR UPDATE`` so concurrent appends queue; on SQLite the whole
transaction already holds the write lock (``BEGIN IMMEDIATE``, :mod:`hub.db.engine`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from hub.db.models import AuditCheckpoint, AuditEvent, AuditHead
from hub.domain.audit_chain import GENESIS_HASH


def lock_head(session: Session) -> AuditHead:
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


def get_head(session: Session) -> AuditHead | None:
    return session.get(AuditHead, 1)


def add_event(session: Session, *, values: dict[str, Any]) -> AuditEvent:
    event = AuditEvent(**values)
    session.add(event)
    session.flush()
    return event


def add_checkpoint(
    session: Session, *, seq: int, head_hash: str, ts: str, kid: str, signature: str
) -> AuditCheckpoint:
    checkpoint = AuditCheckpoint(seq=seq, head_hash=head_hash, ts=ts, kid=kid,
                                 signature=signature)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def _filtered(
    query: Select[Any],
    *,
    actor: str | None,
    project: str | None,
    agency: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
) -> Select[Any]:
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if project:
        query = query.where(AuditEvent.project == project)
    if agency:
        query = query.where(AuditEvent.agency == agency)
    if action:
        # "request." matches every request action; "request.viewed" matches exactly.
        if action.endswith("."):
            query = query.where(AuditEvent.action.startswith(action))
        else:
            query = query.where(AuditEvent.action == action)
    if since:
        query = query.where(AuditEvent.ts >= since)
    if until:
        query = query.where(AuditEvent.ts < until)
    return query


def search_events(
    session: Session,
    *,
    actor: str | None = None,
    project: str | None = None,
    agency: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> tuple[list[AuditEvent], int]:
    """One page of matching events in sequence order after ``after_seq``, and the total."""
    filters = {"actor": actor, "project": project, "agency": agency, "action": action,
               "since": since, "until": until}
    query = _filtered(select(AuditEvent), **filters).where(AuditEvent.seq > after_seq)
    page = list(session.scalars(query.order_by(AuditEvent.seq).limit(limit)))
    total = session.scalar(_filtered(select(func.count(AuditEvent.seq)), **filters)) or 0
    return page, int(total)


@dataclass(frozen=True)
class EventPage:
    """A page of matching events in sequence order, how many events match in all, and how
    many matching events come before the page (its position in the filtered result)."""

    events: list[AuditEvent]
    total: int
    earlier: int


def page_events(
    session: Session,
    *,
    filters: dict[str, str | None],
    after_seq: int = 0,
    before_seq: int | None = None,
    limit: int = 100,
) -> EventPage:
    """Keyset paging over ``seq`` in both directions: the first ``limit`` matching events
    after ``after_seq``, or (with ``before_seq``) the last ``limit`` before it. A backward
    page that reaches the start is the first page instead, so pages stay full and aligned.
    No OFFSET: each page reads its own rows through the primary key plus one count."""
    query = _filtered(select(AuditEvent), **filters)
    rows: list[AuditEvent] = []
    if before_seq is not None:
        rows = list(session.scalars(query.where(AuditEvent.seq < before_seq)
                                    .order_by(AuditEvent.seq.desc()).limit(limit)))[::-1]
    if before_seq is None or len(rows) < limit:
        start = after_seq if before_seq is None else 0
        rows = list(session.scalars(query.where(AuditEvent.seq > start)
                                    .order_by(AuditEvent.seq).limit(limit)))
        boundary = rows[0].seq if rows else start + 1
    else:
        boundary = rows[0].seq
    counts = _filtered(select(
        func.count(AuditEvent.seq),
        func.coalesce(func.sum(case((AuditEvent.seq < boundary, 1), else_=0)), 0),
    ), **filters)
    total, earlier = session.execute(counts).one()
    return EventPage(events=rows, total=int(total), earlier=int(earlier))


def iter_matching(
    session: Session, *, filters: dict[str, str | None], batch: int = 1000
) -> Iterator[AuditEvent]:
    """Every matching event in sequence order, read in keyset batches (no counting)."""
    query = _filtered(select(AuditEvent), **filters)
    after = 0
    while True:
        rows = list(session.scalars(query.where(AuditEvent.seq > after)
                                    .order_by(AuditEvent.seq).limit(batch)))
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def iter_events(session: Session, *, batch: int = 1000) -> Iterator[AuditEvent]:
    """Every event in sequence order, in batches (constant memory for a long chain)."""
    after = 0
    while True:
        rows = list(session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
        ))
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def list_checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))


def project_events(
    session: Session, *, project: str, actions: Iterable[str], outcome: str = "ok"
) -> list[AuditEvent]:
    """The events of ``project`` with one of ``actions`` and ``outcome``, in chain order."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.project == project, AuditEvent.action.in_(list(actions)),
               AuditEvent.outcome == outcome)
        .order_by(AuditEvent.seq)
    )
    return list(session.scalars(query))
