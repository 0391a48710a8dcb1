"""An agency person's identity versions (agency_node/services/match_units.py): distinct
identities of its rows, those most rows hold first (ties: most recent first), at most
MAX_VERSIONS_PER_UNIT."""

from __future__ import annotations

from typing import Any

from agency_node.services.match_units import person_versions
from agency_node.store.records import PersonRow
from protocol.unit_tokens import MAX_VERSIONS_PER_UNIT


def _row(pk: int, period: str | None, identity: dict[str, Any]) -> PersonRow:
    year = int(period[:4]) if period else None
    return PersonRow(pk, "S1", year, period, identity, {})


MAIDEN = {"first_name": "MARIA", "last_name": "GARCIA", "problems": {}}
MARRIED = {"first_name": "MARIA", "last_name": "WHITFIELD", "problems": {}}


def test_versions_are_distinct_and_most_recent_first() -> None:
    rows = [_row(1, "2021FA", MARRIED), _row(2, "2021SP", MAIDEN), _row(3, "2020FA", MAIDEN),
            # The same identity, only another reason recorded for a missing field.
            _row(4, "2022SP", {**MARRIED, "problems": {"dob": "missing"}})]
    primary, versions = person_versions(rows)
    # 2022 spring is the most recent; fall comes after spring within a year.
    assert primary == 4
    assert [v["last_name"] for v in versions] == ["WHITFIELD", "GARCIA"]


def test_rows_without_a_period_are_the_oldest_and_ties_go_to_the_newer_record() -> None:
    rows = [_row(7, None, MARRIED), _row(5, "2019Q1", MAIDEN), _row(6, "2019Q1", MARRIED)]
    primary, versions = person_versions(rows)
    assert primary == 6
    assert [v["last_name"] for v in versions] == ["WHITFIELD", "GARCIA"]


def test_versions_are_capped_at_the_most_recent() -> None:
    rows = [_row(i, f"{2000 + i}", {"first_name": f"NAME{i}"}) for i in range(10)]
    primary, versions = person_versions(rows)
    assert primary == 9
    assert [v["first_name"] for v in versions] == [
        f"NAME{i}" for i in range(9, 9 - MAX_VERSIONS_PER_UNIT, -1)]


def test_version_most_rows_hold_is_primary_not_a_recent_typo() -> None:
    typo = {**MARRIED, "last_name": "WHITFEILD"}
    rows = [_row(1, "2019Q1", MARRIED), _row(2, "2019Q2", MARRIED), _row(3, "2019Q3", MAIDEN),
            _row(4, "2019Q4", typo)]
    primary, versions = person_versions(rows)
    # The latest quarter's typo is kept as a version, but the Bloom filters encode the name
    # two quarters hold; its newest row is remembered.
    assert primary == 2
    assert [v["last_name"] for v in versions] == ["WHITFIELD", "WHITFEILD", "GARCIA"]


def test_cap_keeps_the_versions_most_rows_hold() -> None:
    usual = {"first_name": "USUAL"}
    rows = [_row(i, f"{2000 + i}", usual) for i in range(3)]
    rows += [_row(10 + i, f"{2010 + i}", {"first_name": f"TYPO{i}"}) for i in range(6)]
    _, versions = person_versions(rows)
    assert len(versions) == MAX_VERSIONS_PER_UNIT
    assert versions[0] == usual  # the oldest rows, but the most of them
