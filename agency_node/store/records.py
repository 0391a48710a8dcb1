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
    stmt: Select[*tuple[Any, ...]], *, years: Collection[int] | None, page_size: int,
    fetch: Callable[[Select[*tuple[Any, ...]]], list[Any]],
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


class PersonRow(NamedTuple):
    """What a match stream reads of one row of an agency person."""

    id: int
    person_id: str
    year: int | None
    period: str | None
    identity: dict[str, Any]
    attributes: dict[str, Any]


def count_units(session: Session, *, persons: bool, years: Collection[int] | None) -> int:
    """How many units a match stream over ``years`` holds before any cohort: the agency
    persons and the records without a person id (``persons``), or every record."""
    in_years = [] if years is None else [Record.year.in_(sorted(years))]
    if not persons:
        return session.scalar(select(func.count()).select_from(Record).where(*in_years)) or 0
    people = select(func.count(func.distinct(Record.person_id))).where(
        Record.person_id.is_not(None), *in_years)
    lone = select(func.count()).select_from(Record).where(Record.person_id.is_(None), *in_years)
    return (session.scalar(people) or 0) + (session.scalar(lone) or 0)


def iter_person_keys(
    session: Session, *, years: Collection[int] | None, page_size: int = 50_000
) -> Iterator[list[tuple[str, int]]]:
    """Every agency person with a row in ``years``: ``(person id, primary key of its first
    such row)``, a page at a time in person-id order (keyset on the person id, one short
    query a page). The key names the person to :func:`rows_of_persons_of` without keeping
    its id (a string) in memory."""
    in_years = [] if years is None else [Record.year.in_(sorted(years))]
    last: str | None = None
    while True:
        stmt = (select(Record.person_id, func.min(Record.id))
                .where(Record.person_id.is_not(None), *in_years)
                .group_by(Record.person_id).order_by(Record.person_id).limit(page_size))
        if last is not None:
            stmt = stmt.where(Record.person_id > last)
        page = [(person, pk) for person, pk in session.execute(stmt) if person is not None]
        if not page:
            return
        yield page
        last = page[-1][0]


def iter_record_keys(
    session: Session, *, years: Collection[int] | None, page_size: int = 50_000,
    without_person: bool = False,
) -> Iterator[list[tuple[int, str]]]:
    """``(primary key, record id)`` of the records in ``years``, a page at a time in
    primary-key order. ``without_person``: only records without a person id."""
    stmt = select(Record.id, Record.record_id)
    if without_person:
        stmt = stmt.where(Record.person_id.is_(None))
    yield from _keyset_pages(stmt, years=years, page_size=page_size,
                             fetch=lambda page: list(session.execute(page)))


def rows_of_persons_of(
    session: Session, *, pks: Collection[int], years: Collection[int] | None
) -> list[PersonRow]:
    """Every row (in ``years``) of the agency persons that the rows ``pks`` belong to,
    grouped by person (person-id order), each person's rows in primary-key order."""
    in_years = [] if years is None else [Record.year.in_(sorted(years))]
    rows: list[PersonRow] = []
    for part in _chunks(sorted(pks)):
        persons = select(Record.person_id).where(Record.id.in_(part),
                                                 Record.person_id.is_not(None))
        stmt = select(Record.id, Record.person_id, Record.year, Record.period,
                      Record.identity, Record.attributes).where(
            Record.person_id.in_(persons), *in_years).order_by(Record.person_id, Record.id)
        rows += [PersonRow(*row) for row in session.execute(stmt)]
    return rows


def match_rows(session: Session, *, pks: Collection[int]) -> list[MatchRow]:
    """The records ``pks`` as :class:`MatchRow`, in primary-key order."""
    rows: list[MatchRow] = []
    for part in _chunks(sorted(pks)):
        stmt = select(Record.id, Record.record_id, Record.identity, Record.attributes).where(
            Record.id.in_(part)).order_by(Record.id)
        rows += [MatchRow(*row) for row in session.execute(stmt)]
    return rows


def records_of_persons(
    session: Session, *, person_ids: Collection[str], years: Collection[int] | None
) -> dict[str, list[Record]]:
    """Every record of each agency person in ``person_ids`` (in ``years``), by person id,
    in primary-key order."""
    found: dict[str, list[Record]] = {}
    for part in _chunks(sorted(person_ids)):
        stmt = select(Record).where(Record.person_id.in_(part))
        if years is not None:
            stmt = stmt.where(Record.year.in_(sorted(years)))
        for record in session.scalars(stmt.order_by(Record.id)):
            found.setdefault(record.person_id or "", []).append(record)
    return found


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
