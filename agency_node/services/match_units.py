"""The units a match stream sends: one per agency person, one per record without one.

When the mapping has a ``person_id``, the rows that share it are one agency person and the
hub gets **one** token-batch row for them (:func:`protocol.encoding.encode_unit_columns`),
under the person's pseudonym (:func:`protocol.keys.person_pseudonymous_ids`), instead of
one row per school year, term or quarter: the hub cannot count a person's rows (years
enrolled, quarters employed), and linkage sees one record of this agency, not ten. The
person's *identity versions* are the distinct normalised identities among its rows in
the requested years and cohort, those most rows hold first (ties: the most recent, by
year, then period, then record), at most :data:`~protocol.unit_tokens.MAX_VERSIONS_PER_UNIT`
(:func:`person_versions`): a married name keeps
matching the agency that knew the maiden name. A row without a person id — and every row
when no person id is mapped — is a unit of its own, encoded exactly as before under its
record's pseudonym.

Units are sent in **pid order**, persons and records mixed
(:mod:`agency_node.services.unit_order`): a permutation of its own in each project, so a
hub cannot line two projects' streams up by position. A page holds whole units (a
person's rows are read together, so a person is never split across pages, so never
across batches). The pid of a person unit is remembered with the primary version's record;
an extract resolves the person through that record's person id (``services/extract.py``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from agency_node.ingest.periods import period_sort_key
from agency_node.services.parallel_encoding import ColumnChunk
from agency_node.services.scope import in_cohort
from agency_node.services.unit_order import Pseudonyms, UnitPageKeys, pid_order
from agency_node.store.identity_json import identity_columns_from_json
from agency_node.store.records import MatchRow, PersonRow, match_rows, rows_of_persons_of
from protocol.unit_tokens import MAX_VERSIONS_PER_UNIT
from protocol.wire import Cohort


class IssuedUnit(NamedTuple):
    """One unit sent: its pid, the record remembered for it, the rows it stands for and
    whether it is an agency person (or a record of its own)."""

    pid: str
    record_pk: int
    rows: int
    person: bool


class UnitPage(NamedTuple):
    """One batch to encode (:data:`~agency_node.services.parallel_encoding.ColumnChunk`)
    and the units it holds, in order."""

    chunk: ColumnChunk
    units: list[IssuedUnit]


def _recency(row: PersonRow) -> tuple[Any, ...]:
    period = period_sort_key(row.period) if row.period else (0, 0, "")
    return (row.year is not None, row.year or 0, row.period is not None, period, row.id)


def _version_key(identity: dict[str, Any]) -> str:
    # What the encoder reads: the problems dict (why a field is missing) encodes nothing.
    return json.dumps({k: v for k, v in identity.items() if k != "problems"}, sort_keys=True)


def person_versions(rows: list[PersonRow]) -> tuple[int, list[dict[str, Any]]]:
    """The primary version's newest row pk and the person's distinct identities, at most
    :data:`MAX_VERSIONS_PER_UNIT`: the versions most rows hold first, ties to the one seen
    most recently.

    Why rows before recency: a clerk's typo is a version too (in the synthetic workforce
    file 63 % of persons hold four or more), and ranked by recency alone a typo in the
    latest quarter became the primary — the version the Bloom filters encode — while the
    name every other quarter holds could fall past the cap. A name change still keeps both
    names: each is held by the rows before and after it."""
    ordered = sorted(rows, key=_recency, reverse=True)
    held: dict[str, list[PersonRow]] = {}
    for row in ordered:  # newest first, so each version's first row is its newest
        held.setdefault(_version_key(row.identity), []).append(row)
    # Stable sort on the count: among equal counts, the version seen most recently first.
    ranked = sorted(held.values(), key=len, reverse=True)[:MAX_VERSIONS_PER_UNIT]
    return ranked[0][0].id, [version[0].identity for version in ranked]


def _person_units(
    rows: list[PersonRow], cohort: Cohort, pids_of: Pseudonyms
) -> list[tuple[IssuedUnit, list[dict[str, Any]]]]:
    by_person: dict[str, list[PersonRow]] = {}
    for row in rows:
        by_person.setdefault(row.person_id, []).append(row)
    kept: list[tuple[int, int, list[dict[str, Any]]]] = []  # (primary pk, rows, versions)
    names: list[str] = []
    for person_id, group in by_person.items():
        chosen = [r for r in group if in_cohort(r.attributes, cohort)]
        if chosen:
            primary, versions = person_versions(chosen)
            names.append(person_id)
            kept.append((primary, len(chosen), versions))
    # One call per page: the pseudonym key's HMAC state is set up once, not per unit. The
    # pid is derived from the id read now, never taken from the ordering pass, so a unit
    # always goes under its own pid.
    pids = pids_of(names) if names else []
    return [(IssuedUnit(pid, pk, n, True), versions)
            for pid, (pk, n, versions) in zip(pids, kept, strict=True)]


def _record_units(
    rows: list[MatchRow], cohort: Cohort, pids_of: Pseudonyms
) -> list[tuple[IssuedUnit, list[dict[str, Any]]]]:
    chosen = [r for r in rows if in_cohort(r.attributes, cohort)]
    pids = pids_of([r.record_id for r in chosen]) if chosen else []
    return [(IssuedUnit(pid, r.id, 1, False), [r.identity])
            for pid, r in zip(pids, chosen, strict=True)]


def _page(units: list[tuple[IssuedUnit, list[dict[str, Any]]]]) -> UnitPage:
    units.sort(key=lambda unit: unit[0].pid)
    issued = [unit for unit, _ in units]
    pids = [unit.pid for unit in issued]
    if not any(unit.person for unit in issued):
        return UnitPage((pids, identity_columns_from_json([v[0] for _, v in units])), issued)
    # A record is a unit with one version: encode_unit_columns gives it exactly the row
    # encode_columns does, so persons and records share a batch.
    owners = [n for n, (_, versions) in enumerate(units) for _ in versions]
    identities = [identity for _, versions in units for identity in versions]
    return UnitPage((pids, identity_columns_from_json(identities), owners), issued)


class UnitPages:
    """The match stream's batches, at most ``page_size`` units each, every unit in pid
    order: agency persons (``persons``: the mapping has a person id) and records without a
    person id — every record when not — mixed. Units the cohort leaves out are skipped
    (a page can hold fewer units; an empty one is not yielded).

    The order (one pass over the store) is computed when this is built; pages are read as
    they are iterated. For a given project, scope, page size and store the batches and
    their boundaries are always the same, which is what lets a stream resume
    (:meth:`skip`)."""

    def __init__(
        self, session: Session, *, persons: bool, years: Collection[int] | None,
        cohort: Cohort, page_size: int, record_pids: Pseudonyms, person_pids: Pseudonyms,
    ) -> None:
        self._session = session
        self._years = years
        self._cohort = cohort
        self._record_pids = record_pids
        self._person_pids = person_pids
        order = pid_order(session, persons=persons, years=years, record_pids=record_pids,
                          person_pids=person_pids)
        self.units = len(order)
        self._keys = order.pages(page_size)

    def skip(self, batches: int) -> int:
        """Pass over the next ``batches`` batches without building them (no pseudonym, no
        identity is read or derived); returns how many there were — fewer when the stream
        ends first. Without cohort conditions every page of the order is a batch, so
        nothing is read at all; with them a page's rows are read to tell whether the cohort
        leaves any unit in it, exactly as iterating would."""
        passed = 0
        while passed < batches:
            keys = next(self._keys, None)
            if keys is None:
                break
            if not self._cohort.conditions or self._has_units(keys):
                passed += 1
        return passed

    def _has_units(self, keys: UnitPageKeys) -> bool:
        cohort, session = self._cohort, self._session
        if keys.persons and any(
                in_cohort(row.attributes, cohort)
                for row in rows_of_persons_of(session, pks=keys.persons, years=self._years)):
            return True
        return bool(keys.records) and any(
            in_cohort(row.attributes, cohort) for row in match_rows(session, pks=keys.records))

    def __iter__(self) -> Iterator[UnitPage]:
        session, years, cohort = self._session, self._years, self._cohort
        for keys in self._keys:
            units: list[tuple[IssuedUnit, list[dict[str, Any]]]] = []
            if keys.persons:
                units += _person_units(rows_of_persons_of(session, pks=keys.persons,
                                                          years=years),
                                       cohort, self._person_pids)
            if keys.records:
                units += _record_units(match_rows(session, pks=keys.records), cohort,
                                       self._record_pids)
            if units:
                yield _page(units)


def unit_pages(
    session: Session, *, persons: bool, years: Collection[int] | None, cohort: Cohort,
    page_size: int, record_pids: Pseudonyms, person_pids: Pseudonyms,
) -> Iterator[UnitPage]:
    """Every batch of :class:`UnitPages`, from the first."""
    yield from UnitPages(session, persons=persons, years=years, cohort=cohort,
                         page_size=page_size, record_pids=record_pids, person_pids=person_pids)
