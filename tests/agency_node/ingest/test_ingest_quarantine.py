"""Ingest: every kind of unusable row is quarantined with its row, column and reason;
strict mode loads nothing; empty sources are clear errors; re-ingest is idempotent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from agency_node.errors import IngestError, SourceError
from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.store.ingest_runs import latest_run, quarantine_of
from agency_node.store.models import Record

GOOD = b"K12-0001,Maria,,Garcia,03/07/2004,F,219-09-9999,23220,2019,9,3.4,yes,P1\r\n"
HEADER = (b"record_id,first_name,middle_name,last_name,dob,sex,ssn,postal_code,"
          b"school_year,grade_level,gpa,ell,truth_id\r\n")


def _ingest(node_dir: Path, *, strict: bool = False):
    with NodeRuntime.open(node_dir) as runtime:
        summary = run_ingest(runtime.settings.node, runtime.sessions, runtime.audit,
                             strict=strict)
        with runtime.sessions() as session:
            quarantine = [(q.row_number, q.column, q.reason)
                          for q in quarantine_of(session, run_id=summary.run_id)]
            records = {r.record_id: r for r in session.scalars(select(Record))}
    return summary, quarantine, records


@pytest.fixture
def bytes_node(tmp_path: Path, make_node: Callable[..., Path]) -> Callable[[bytes], Path]:
    """A node initialised on a good file whose source is then replaced by ``data``."""
    source = tmp_path / "source.csv"

    def make(data: bytes) -> Path:
        source.write_bytes(HEADER + GOOD)
        node_dir = make_node(source)
        source.write_bytes(data)
        return node_dir

    return make


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (b",Ann,,Lee,2001-01-01,F,,,2019,9,3.0,no,P9\r\n", "record_id", "missing_record_id"),
        (b"K12-0001,Ann,,Lee,2001-01-01,F,,,2019,9,3.0,no,P9\r\n", "record_id",
         "duplicate_record_id"),
        (b"K12-0009,Ann,Lee\r\n", "*", "ragged_row"),
        (b"K12-0009,Ann\x81\x8d,,Lee,2001-01-01,F,,,2019,9,3.0,no,P9\r\n", "first_name",
         "undecodable"),
        (b"K12-0009,Ann\x00,,Lee,2001-01-01,F,,,2019,9,3.0,no,P9\r\n", "first_name",
         "undecodable"),
        (b"K12-0009,Ann\x0b,,Lee,2001-01-01,F,,,2019,9,3.0,no,P9\r\n", "first_name",
         "undecodable"),
        (b"K12-0009," + b"A" * 20_000 + b",,Lee,2001-01-01,F,,,2019,9,3.0,no,P9\r\n",
         "first_name", "field_too_long"),
        (b"K12-0009,,,,not a date,?,000-00-0000,,2019,9,3.0,no,P9\r\n", "*", "no_identity"),
        (b"K12-0009,Ann,,Lee,2001-01-01,F,,,2019,ninth,3.0,no,P9\r\n", "grade_level",
         "bad_attribute_type"),
        (b"K12-0009,Ann,,Lee,2001-01-01,F,,,2019,9,3.0,maybe,P9\r\n", "ell",
         "bad_attribute_type"),
        (b"K12-0009,Ann,,Lee,2001-01-01,F,,,last year,9,3.0,no,P9\r\n", "school_year",
         "bad_year"),
    ],
    ids=["missing_id", "duplicate_id", "ragged", "undecodable", "nul_byte", "vertical_tab",
         "too_long",
         "no_identity", "bad_integer", "bad_boolean", "bad_year"],
)
def test_ingest_quarantines_bad_row_with_reason(
    bytes_node: Callable[[bytes], Path], row: bytes, column: str, reason: str
) -> None:
    node_dir = bytes_node(HEADER + GOOD + row)
    summary, quarantine, records = _ingest(node_dir)
    assert summary.rows == 2
    assert summary.loaded == 1 and summary.quarantined == 1
    assert (2, column, reason) in quarantine
    assert set(records) == {"K12-0001"}


def test_ingest_cp1252_fallback_loaded_and_recorded(bytes_node: Callable[[bytes], Path]) -> None:
    row = "K12-0002,José,,Muñoz,2001-01-01,M,,,2019,9,3.0,no,P2\r\n".encode("cp1252")
    summary, quarantine, records = _ingest(bytes_node(HEADER + GOOD + row))
    assert quarantine == []
    assert summary.encoding_fallbacks == {"cp1252": 1}
    assert records["K12-0002"].encoding == "cp1252"
    assert records["K12-0002"].identity["first_name"] == "JOSE"


def test_ingest_utf8_accents_and_tabs_load_as_utf8(bytes_node: Callable[[bytes], Path]) -> None:
    row = "K12-0002,\"Mar\tía\",,Muñoz,2001-01-01,F,,,2019,9,3.0,no,P2\r\n".encode()
    summary, quarantine, records = _ingest(bytes_node(HEADER + GOOD + row))
    assert quarantine == []
    assert summary.encoding_fallbacks == {}
    assert records["K12-0002"].encoding == "utf-8"
    assert records["K12-0002"].identity["first_name"] == "MARIA"
    assert records["K12-0002"].identity["last_name"] == "MUNOZ"


def test_ingest_strict_loads_nothing_on_a_bad_row(bytes_node: Callable[[bytes], Path]) -> None:
    bad = b"K12-0002,Ann,Lee\r\n"
    node_dir = bytes_node(HEADER + GOOD + bad + GOOD.replace(b"0001", b"0003"))
    with pytest.raises(IngestError, match="1 of 3 rows are unusable"):
        _ingest(node_dir, strict=True)
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        assert session.scalars(select(Record)).first() is None


def test_ingest_empty_file_is_a_clear_error(bytes_node: Callable[[bytes], Path]) -> None:
    with pytest.raises(SourceError, match="is empty"):
        _ingest(bytes_node(b""))


def test_ingest_header_only_refused(bytes_node: Callable[[bytes], Path]) -> None:
    node_dir = bytes_node(HEADER + b"\r\n")
    with pytest.raises(SourceError, match="header but no data rows"):
        _ingest(node_dir)
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        assert session.scalars(select(Record)).first() is None
        run = latest_run(session)
        assert run is not None and (run.status, run.audited) == ("failed", True)


def test_ingest_missing_mapped_column_is_a_clear_error(
    bytes_node: Callable[[bytes], Path],
) -> None:
    with pytest.raises(SourceError, match=r"'grade_level'|'truth_id'"):
        _ingest(bytes_node(b"record_id,first_name,last_name\r\nK1,Ann,Lee\r\n"))


def test_reingest_is_idempotent_and_updates_changed_rows(node_dir: Path, source_csv: Path) -> None:
    first, _, before = _ingest(node_dir)
    second, _, after = _ingest(node_dir)
    assert first.loaded == second.loaded == second.records_in_store == 4
    assert {k: (r.identity, r.attributes, r.year) for k, r in before.items()} == {
        k: (r.identity, r.attributes, r.year) for k, r in after.items()
    }
    source_csv.write_text(source_csv.read_text().replace(",9,3.4,", ",10,3.4,"))
    third, _, updated = _ingest(node_dir)
    assert third.records_in_store == 4
    assert updated["K12-0001"].attributes["grade_level"] == 10


def test_blank_lines_are_counted_not_quarantined(bytes_node: Callable[[bytes], Path]) -> None:
    summary, quarantine, _ = _ingest(bytes_node(HEADER + b"\r\n" + GOOD + b"\r\n"))
    assert (summary.loaded, summary.blank_lines, quarantine) == (1, 2, [])
