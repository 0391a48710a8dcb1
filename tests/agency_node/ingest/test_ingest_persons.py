"""Ingest of longitudinal rows: person ids and normalised periods stored per row, bad
periods and reused person ids quarantined with every line accounted for, and the profile
and data dictionary counting persons and periods (counts only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from agency_node.ingest.loader import run_ingest
from agency_node.profile import build_profile
from agency_node.runtime import NodeRuntime
from agency_node.services.dictionary import grain
from agency_node.store.ingest_runs import quarantine_of
from agency_node.store.models import Record
from tests.agency_node.ingest.test_persons import HEADER, longitudinal_rows, write_rows


@pytest.fixture
def person_node(tmp_path: Path, make_node: Callable[..., Path]) -> Callable[[list[list[str]]],
                                                                            Path]:
    """A node mapped with person id ``student_id`` and period ``school_year``, whose source
    is then replaced by ``rows``."""
    source = tmp_path / "k12.csv"

    def make(rows: list[list[str]]) -> Path:
        write_rows(source, longitudinal_rows(40, years=3))
        node_dir = make_node(source)
        write_rows(source, rows)
        return node_dir

    return make


def _ingest(node_dir: Path):
    with NodeRuntime.open(node_dir) as runtime:
        config = runtime.settings.node
        assert (config.mapping.person_id, config.mapping.period_column) == ("student_id",
                                                                            "school_year")
        summary = run_ingest(config, runtime.sessions, runtime.audit)
        with runtime.sessions() as session:
            quarantine = [(q.row_number, q.column, q.reason, q.detail)
                          for q in quarantine_of(session, run_id=summary.run_id)]
            records = {r.record_id: (r.person_id, r.period, r.period_kind, r.year)
                       for r in session.scalars(select(Record))}
        profile = build_profile(config, runtime.sessions)
        facts = grain(config, runtime.sessions, min_cell=3)
    return summary, quarantine, records, profile, facts


def test_ingest_stores_person_id_and_each_period_kind_normalised(person_node) -> None:
    rows = longitudinal_rows(40, years=3)
    spellings = ["Fall 2021", "2021Q3", "2021", "SY 2021-2022", "2021-03-07", "2022-1"]
    for row, spelling in zip(rows, spellings, strict=False):
        row[5] = spelling
    rows[6][5] = ""  # no period: loaded, like a missing year
    summary, quarantine, records, profile, _ = _ingest(person_node(rows))
    assert quarantine == [] and summary.loaded == 120
    assert [records[f"R{i:07d}"] for i in range(7)] == [
        ("S000000", "2021FA", "term", 2021), ("S000001", "2021Q3", "quarter", 2021),
        ("S000002", "2021", "year", 2021), ("S000003", "2021-22", "school_year", 2021),
        ("S000004", "2021-03-07", "date", 2021), ("S000005", "2022T1", "term", 2022),
        ("S000006", None, None, None)]
    # The period's year scopes requests: school year 2021-22 starts in 2021.
    assert records["R0000080"] == ("S000000", "2021-22", "school_year", 2021)
    persons = profile["persons"]
    assert persons["persons"] == 40 and persons["rows"] == 120
    assert persons["rows_per_person"] == {"min": 3, "median": 3, "max": 3}
    assert persons["rows_without_period"] == 1
    kinds = {p["kind"]: p for p in persons["periods"]}
    assert kinds["school_year"]["first"] == "2019-20" and kinds["school_year"]["last"] == \
        "2021-22"
    assert kinds["term"] == {"kind": "term", "first": "2021FA", "last": "2022T1", "rows": 2}


def test_ingest_bad_period_is_quarantined_with_its_line(person_node) -> None:
    rows = longitudinal_rows(40, years=3)
    rows[3][5] = "2021-05"
    rows[7][5] = "next spring"
    summary, quarantine, records, _, _ = _ingest(person_node(rows))
    assert [(q[0], q[1], q[2]) for q in quarantine] == [
        (4, "school_year", "bad_period"), (8, "school_year", "bad_period")]
    assert "2021-05" not in quarantine[0][3] and "school year (2021-22)" in quarantine[0][3]
    assert summary.loaded == 118 and "R0000003" not in records
    assert dict(summary.accounting) == {"lines": 121, "header": 1, "blank": 0, "loaded": 118,
                                        "quarantined": 2}


def test_ingest_reused_person_id_quarantines_every_row_of_it(person_node) -> None:
    rows = longitudinal_rows(40, years=3)
    # S000001 is James, born 1991-02-02, in all three years; a fourth row gives the same id
    # to someone else entirely.
    rows.append(["R9000001", "S000001", "Deshawn", "PRICE", "1975-09-30", "2021-22", "410"])
    # A nickname and a swapped birth day under S000002 are the same person: kept.
    rows.append(["R9000002", "S000002", "Anna", "NGUYEN", "1992-03-03", "2021-22", "400"])
    summary, quarantine, records, profile, _ = _ingest(person_node(rows))
    reused = [q for q in quarantine if q[2] == "reused_person_id"]
    assert [q[0] for q in reused] == [2, 42, 82, 121]
    assert all(q[1] == "student_id" and "S000001" not in q[3] for q in reused)
    assert not any(pid == "S000001" for pid, *_ in records.values())
    assert records["R9000002"][0] == "S000002"
    assert summary.reused_person_ids == 1 and summary.loaded == 118
    assert profile["persons"]["reused_person_ids"] == 1
    assert profile["persons"]["reused_person_id_rows"] == 4
    assert profile["latest_ingest"]["reasons"] == {"reused_person_id": 4}


def test_ingest_row_without_person_id_is_a_person_of_its_own(person_node) -> None:
    rows = longitudinal_rows(40, years=3)
    rows[0][1] = ""
    rows[40][1] = "N/A"
    _, quarantine, records, profile, facts = _ingest(person_node(rows))
    assert quarantine == [] and records["R0000000"][0] is None
    persons = profile["persons"]
    # S000000 keeps one row; its two id-less rows are two persons of their own.
    assert persons["persons"] == 42 and persons["rows_without_person_id"] == 2
    assert persons["rows_per_person"]["min"] == 1
    assert facts["persons"] == 42 and "rows_without_person_id" not in facts


def test_profile_and_dictionary_count_identity_versions_without_values(person_node) -> None:
    rows = longitudinal_rows(40, years=3)
    rows[82][3] = "PRICE"  # S000002 married in the third year
    rows[83][3] = "HOLMES"  # and so did S000003
    rows[44][1:3] = ["S000004", "Lynda"]  # a spelling of S000004's name
    _, _, _, profile, facts = _ingest(person_node(rows))
    assert profile["persons"]["persons_with_several_identity_versions"] == 3
    assert facts["persons_with_several_identity_versions"] == 3
    assert facts["grain"].startswith("one row per person per period")
    assert facts["periods"] == [{"kind": "school_year", "first": "2019-20", "last": "2021-22",
                                 "rows": 120}]
    text = json.dumps(facts) + json.dumps(profile["persons"])
    for value in ("S000002", "PRICE", "HOLMES", "Lynda", "Maria"):
        assert value not in text


def test_dictionary_grain_withholds_small_counts(person_node) -> None:
    rows = longitudinal_rows(40, years=3)
    rows[82][3] = "PRICE"
    _, _, _, _, facts = _ingest(person_node(rows))  # min_cell 3 in _ingest
    assert facts["persons_with_several_identity_versions"] is None


def test_records_without_person_mapping_stay_one_person_each(
    tmp_path: Path, make_node: Callable[..., Path], source_csv: Path
) -> None:
    node_dir = make_node(source_csv)
    with NodeRuntime.open(node_dir) as runtime:
        config = runtime.settings.node
        assert config.mapping.person_id == "" and config.mapping.period_column == ""
        summary = run_ingest(config, runtime.sessions, runtime.audit)
        profile = build_profile(config, runtime.sessions)
        with runtime.sessions() as session:
            stored = [(r.person_id, r.period, r.period_kind)
                      for r in session.scalars(select(Record))]
    assert summary.reused_person_ids == 0
    assert set(stored) == {(None, None, None)}
    assert profile["persons"]["persons"] == profile["records"] == summary.loaded
    assert profile["persons"]["periods"] == []


def test_header_list_matches_the_rows() -> None:
    assert len(HEADER) == len(longitudinal_rows(1, years=1)[0])


def test_ingest_person_id_too_long_is_quarantined(person_node) -> None:
    rows = longitudinal_rows(40, years=3)
    rows[5][1] = "S" * 300
    summary, quarantine, records, _, _ = _ingest(person_node(rows))
    assert [(q[0], q[1], q[2]) for q in quarantine] == [(6, "student_id", "field_too_long")]
    assert "R0000005" not in records and summary.loaded == 119
