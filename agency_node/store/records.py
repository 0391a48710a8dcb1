"""Persistence of records and of the pseudonymous ids issued for them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from agency_node.store.models import IssuedPid, Record

# Keeps every IN (...) under SQLite's host-parameter limit on old builds.
_IN_CHUNK = 500


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert_records(session: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace records by local ``record_id`` (re-ingest is idempotent)."""
    existing: dict[str, int] = {}
    for part in _chunks([row["record_id"] for row in rows]):
        stmt = select(Record.record_id, Record.id).where(Record.record_id.in_(part))
        existing.update({rid: pk for rid, pk in session.execute(stmt)})
    updates = [
        {**row, "id": existing[row["record_id"]]} for row in rows if row["record_id"] in existing
    ]
    inserts = [row for row in rows if row["record_id"] not in existing]
    if updates:
        session.execute(update(Record), updates)
    if inserts:
        session.execute(insert(Record), inserts)


def count_records(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Record)) or 0


def _keyset_pages(
    stmt: Select[Any], *, years: Collection[int] | None, page_size: int,
    fetch: Callable[[Select[Any]], list[Any]],
) -> Iterator[list[Any]]:
    """The rows of ``stmt`` (which selects from ``records``) in primary-key order, one
    short query per page (no long-held cursor); ``fetch`` runs one page's query."""
    if years is not None:
        stmt = stmt.where(Record.year.in_(sorted(years)))
    last = 0
    while True:
        page = fetch(stmt.where(Record.id > last).order_by(Record.id).limit(page_size))
        if not page:
            return
        last = page[-1].id
        yield page


def iter_record_pages(
    session: Session, *, years: Collection[int] | None, page_size: int = 5000
) -> Iterator[list[Record]]:
    """Records in primary-key order, one short query per page (no long-held cursor)."""
    for page in _keyset_pages(select(Record), years=years, page_size=page_size,
                              fetch=lambda stmt: list(session.scalars(stmt))):
        yield page
        session.expunge_all()


class MatchRow(NamedTuple):
    """What a match stream reads of a record: no raw identity, no ORM object."""

    id: int
    record_id: str
    identity: dict[str, Any]
    attributes: dict[str, Any]


def iter_match_pages(
    session: Session, *, years: Collection[int] | None, page_size: int = 5000
) -> Iterator[list[MatchRow]]:
    """Like :func:`iter_record_pages`, but only the columns a match stream needs, as plain
    rows: loading ORM objects (and parsing each record's raw identity) cost more than
    encoding the record does."""
    stmt = select(Record.id, Record.record_id, Record.identity, Record.attributes)
    yield from _keyset_pages(stmt, years=years, page_size=page_size,
                             fetch=lambda page: [MatchRow(*row) for row in session.execute(page)])


def iter_all_records(session: Session) -> Iterator[Record]:
    for page in iter_record_pages(session, years=None):
        yield from page


def remember_issued_pids(
    session: Session, *, project_id: str, pairs: Sequence[tuple[str, int]]
) -> None:
    """Record (pid, record pk) pairs sent for ``project_id``; already-known pairs are kept."""
    if not pairs:
        return
    dialect = session.get_bind().dialect.name
    rows = [{"project_id": project_id, "pid": pid, "record_pk": pk} for pid, pk in pairs]
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        for part in _chunks(rows, 200):
            stmt = module.insert(IssuedPid).on_conflict_do_nothing(
                index_elements=["project_id", "pid"]
            )
            session.execute(stmt, list(part))
        return
    known = set(records_for_pids(session, project_id=project_id, pids=[p for p, _ in pairs]))
    fresh = [row for row in rows if row["pid"] not in known]
    if fresh:
        session.execute(insert(IssuedPid), fresh)


def records_for_pids(
    session: Session, *, project_id: str, pids: Sequence[str]
) -> dict[str, Record]:
    """The records behind the given pids, for the pids this node issued for the project."""
    found: dict[str, Record] = {}
    for part in _chunks(list(pids)):
        stmt = (
            select(IssuedPid.pid, Record)
            .join(Record, Record.id == IssuedPid.record_pk)
            .where(IssuedPid.project_id == project_id, IssuedPid.pid.in_(part))
        )
        found.update({pid: record for pid, record in session.execute(stmt)})
    return found
