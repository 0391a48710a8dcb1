"""The CSV parser accounts for every physical line: header + blank lines + each row's
line span = the file's lines, whatever the quoting; a stray quote costs one line, never
the rows after it."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agency_node.config import SourceSection
from agency_node.ingest.sources import MAX_RECORD_LINES, RawRow, SourceStats, open_source

HEADER = "record_id,name,score"
WIDTH = 3


def physical_lines(data: bytes) -> int:
    """Lines ending at \\n, \\r\\n or \\r (a last line without an ending counts)."""
    return len(re.findall(rb"\r\n|\r|\n|[^\r\n]\Z", data)) if data else 0


def parse(path: Path, data: bytes, **opts: object) -> tuple[list[str], list[RawRow], SourceStats]:
    path.write_bytes(data)
    stats = SourceStats()
    with open_source(SourceSection(kind="csv", path=str(path), **opts), stats) as (header, rows):
        return header, list(rows), stats


def assert_accounted(data: bytes, rows: list[RawRow], stats: SourceStats) -> None:
    assert stats.lines == physical_lines(data)
    assert stats.header_lines + stats.blank_lines + sum(r.lines for r in rows) == stats.lines
    spans = sorted((r.line_number, r.line_end) for r in rows)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start > end  # no line in two rows
    assert all(r.lines <= MAX_RECORD_LINES for r in rows)


def good_rows(n: int) -> list[str]:
    return [f"R{i:04d},name {i},{i % 97}" for i in range(1, n + 1)]


def test_stray_quote_at_line_301_costs_one_line(tmp_path: Path) -> None:
    lines = [HEADER, *good_rows(1000)]
    lines[300] = 'R0300,"O\'Brien,55'  # physical line 301
    data = ("\n".join(lines) + "\n").encode()
    _, rows, stats = parse(tmp_path / "s.csv", data)
    assert_accounted(data, rows, stats)
    bad = [r for r in rows if r.values is None]
    assert [(r.line_number, r.line_end, r.problems[0].reason) for r in bad] == [
        (301, 301, "broken_quoting")]
    assert "not closed within" in bad[0].problems[0].detail
    assert len([r for r in rows if r.values is not None]) == 999
    assert rows[-1].values == {"record_id": "R1000", "name": "name 1000", "score": str(1000 % 97)}


def test_ten_megabyte_quoted_field_loses_no_row_after_it(tmp_path: Path) -> None:
    huge = "\n".join(["x" * 1000] * 10_000)  # ~10 MB over 10,000 lines
    data = (f'{HEADER}\nR0000,"{huge}",1\n' + "\n".join(good_rows(499)) + "\n").encode()
    _, rows, stats = parse(tmp_path / "big.csv", data)
    assert_accounted(data, rows, stats)
    good = [r.values["record_id"] for r in rows if r.values is not None and
            r.values["record_id"].startswith("R0") and r.values["record_id"] != "R0000"]
    assert good == [f"R{i:04d}" for i in range(1, 500)]


def test_multiline_quoted_field_is_one_row(tmp_path: Path) -> None:
    data = f'{HEADER}\r\nR1,"17 Brown Ln\r\nApt 2",3\r\nR2,Ann,4\r\n'.encode()
    _, rows, stats = parse(tmp_path / "m.csv", data)
    assert_accounted(data, rows, stats)
    assert [(r.line_number, r.line_end) for r in rows] == [(2, 3), (4, 4)]
    assert rows[0].values == {"record_id": "R1", "name": "17 Brown Ln\r\nApt 2", "score": "3"}


def test_two_stray_quotes_do_not_swallow_the_rows_between(tmp_path: Path) -> None:
    lines = [HEADER, *good_rows(20)]
    lines[5] = 'R0005,"Ann,5'
    lines[9] = 'R0009,Bo",9'  # closes the quote: a 5-line "record" of the wrong width
    data = ("\n".join(lines) + "\n").encode()
    _, rows, stats = parse(tmp_path / "q.csv", data)
    assert_accounted(data, rows, stats)
    loaded = {r.values["record_id"] for r in rows if r.values is not None}
    assert {f"R{i:04d}" for i in (6, 7, 8)} <= loaded
    assert [r.line_number for r in rows if r.values is None] == [6]


def test_quote_left_open_past_the_line_cap_costs_one_line(tmp_path: Path) -> None:
    lines = [HEADER, *good_rows(200)]
    lines[10] = 'R0010,"Ann,10'
    lines[150] = 'R0150,x",150'
    data = ("\n".join(lines) + "\n").encode()
    _, rows, stats = parse(tmp_path / "c.csv", data)
    assert_accounted(data, rows, stats)
    bad = [r for r in rows if r.values is None]
    assert bad[0].line_number == 11 and f"within {MAX_RECORD_LINES} lines" in bad[0].problems[
        0].detail
    assert len([r for r in rows if r.values is not None]) >= 198


# Cells and line endings chosen to break quoting every way: quotes anywhere, delimiters,
# line breaks inside and outside quotes, blank lines.
_CELL = st.text(alphabet='ab",\r\n ', max_size=6)
_ENDING = st.sampled_from(["\n", "\r\n", "\r"])
# tmp_path is shared by the examples: each writes the same file afresh.
_FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@settings(max_examples=300, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(rows=st.lists(st.lists(_CELL, min_size=1, max_size=5), max_size=25), ending=_ENDING,
       tail=st.booleans())
def test_every_line_is_accounted_for_under_malformed_quoting(
    tmp_path: Path, rows: list[list[str]], ending: str, tail: bool
) -> None:
    text = HEADER + ending + ending.join(",".join(cells) for cells in rows)
    if tail:
        text += ending
    data = text.encode()
    _, parsed, stats = parse(tmp_path / "fuzz.csv", data)
    assert_accounted(data, parsed, stats)


@settings(max_examples=200, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(n=st.integers(min_value=1, max_value=60), data=st.data())
def test_one_stray_quote_anywhere_costs_at_most_its_own_line(
    tmp_path: Path, n: int, data: st.DataObject
) -> None:
    lines = good_rows(n)
    victim = data.draw(st.integers(min_value=0, max_value=n - 1))
    at = data.draw(st.integers(min_value=0, max_value=len(lines[victim])))
    lines[victim] = lines[victim][:at] + '"' + lines[victim][at:]
    raw = (HEADER + "\n" + "\n".join(lines) + "\n").encode()
    _, parsed, stats = parse(tmp_path / "one.csv", raw)
    assert_accounted(raw, parsed, stats)
    intact = {r.values["record_id"] for r in parsed if r.values is not None}
    expected = {f"R{i:04d}" for i in range(1, n + 1) if i != victim + 1}
    assert expected <= {v.replace('"', "") for v in intact}
    assert all(r.lines == 1 for r in parsed)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                      "utf-32"])
def test_encodings_detected_from_bom_or_nul_pattern(tmp_path: Path, encoding: str) -> None:
    text = f"{HEADER}\r\nR1,José Muñoz,3\r\nR2,Zoë,4\r\n"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        assert not data.startswith((b"\xff\xfe", b"\xfe\xff"))  # no BOM: NUL pattern decides
    header, rows, stats = parse(tmp_path / "e.csv", data)
    assert header == ["record_id", "name", "score"]
    assert [r.values for r in rows] == [
        {"record_id": "R1", "name": "José Muñoz", "score": "3"},
        {"record_id": "R2", "name": "Zoë", "score": "4"}]
    assert stats.encoding != "" and not stats.fallbacks
    assert_accounted(data.decode(encoding).encode(), rows, stats)
