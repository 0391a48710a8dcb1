"""Ingest fails loudly and leaves nothing unaudited: line accounting on the run, non-zero
outcomes (nothing loaded, quarantine over the limit), header-only and UTF-16 sources,
interrupted runs found and audited at the next start, write failures marked and audited."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

import agency_node.ingest.loader as loader
from agency_node.errors import IngestError
from agency_node.ingest.loader import IngestSummary, run_ingest
from agency_node.ingest.runs import LOCK_FILE
from agency_node.runtime import NodeRuntime
from agency_node.store.audit import iter_events
from agency_node.store.ingest_runs import latest_run, quarantine_of, start_run
from agency_node.store.models import IngestRun, Record
from fedlink.cli import main

HEADER = (b"record_id,first_name,middle_name,last_name,dob,sex,ssn,postal_code,"
          b"school_year,grade_level,gpa,ell,truth_id\r\n")


def good(n: int) -> bytes:
    return (f"K12-{n:04d},Maria,,Garcia,03/07/2004,F,,23220,2019,9,3.4,yes,P{n}\r\n").encode()


def bad(n: int) -> bytes:
    return f"K12-{n:04d},Ann,,Lee,2001-01-01,F,,,2019,ninth,3.0,no,P{n}\r\n".encode()


@pytest.fixture
def bytes_node(tmp_path: Path, make_node: Callable[..., Path]) -> Callable[[bytes], Path]:
    """A node initialised on a good file whose source is then replaced by ``data``."""
    source = tmp_path / "source.csv"
    made: list[Path] = []

    def make(data: bytes) -> Path:
        if not made:  # one node per test; Hypothesis examples re-ingest into it
            source.write_bytes(HEADER + good(1) + good(2))
            made.append(make_node(source))
        source.write_bytes(data)
        return made[0]

    return make


def ingest(node_dir: Path, **kwargs: object) -> IngestSummary:
    with NodeRuntime.open(node_dir) as runtime:
        return run_ingest(runtime.settings.node, runtime.sessions, runtime.audit,
                          lock_dir=node_dir, **kwargs)  # type: ignore[arg-type]


def events(node_dir: Path) -> list[tuple[str, str, str]]:
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        return [(e.typ, e.outcome, e.reason) for e in iter_events(session)]


def cli(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_run_records_where_every_line_went(bytes_node: Callable[[bytes], Path]) -> None:
    data = HEADER + good(1) + b"\r\n" + b'K12-0002,"Ann,,Lee\r\n' + good(3) + bad(4)
    summary = ingest(bytes_node(data), max_quarantine_pct=100)
    assert dict(summary.accounting) == {"lines": 6, "header": 1, "blank": 1, "loaded": 2,
                                        "quarantined": 2}
    assert summary.failure == "" and summary.status == "completed"


def test_all_bad_file_exits_non_zero(bytes_node: Callable[[bytes], Path],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    node_dir = bytes_node(HEADER + b"".join(bad(n) for n in range(1, 997)))
    assert cli("node", "ingest", "--dir", str(node_dir)) != 0
    captured = capsys.readouterr()
    assert "996 rows, 0 loaded, 996 quarantined" in captured.out
    assert "nothing was loaded" in captured.err and "expected an integer" in captured.out
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        run = latest_run(session)
        assert run is not None and (run.status, run.audited) == ("nothing_loaded", True)
    assert ("ingest", "nothing_loaded", "nothing_loaded") in events(node_dir)


def test_quarantine_over_limit_exits_non_zero_but_loads_good_rows(
    bytes_node: Callable[[bytes], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    node_dir = bytes_node(HEADER + b"".join(good(n) for n in range(1, 9)) + bad(9) + bad(10))
    assert cli("node", "ingest", "--dir", str(node_dir)) != 0  # 20 % > 10 % default
    assert "over the 10% limit" in capsys.readouterr().err
    assert cli("node", "ingest", "--dir", str(node_dir), "--max-quarantine-pct", "25") == 0
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        assert len(list(session.scalars(select(Record)))) == 8


def test_header_only_file_refused_from_the_cli(bytes_node: Callable[[bytes], Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("node", "ingest", "--dir", str(bytes_node(HEADER))) != 0
    assert "header but no data rows" in capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_utf16_and_bom_sources_load(bytes_node: Callable[[bytes], Path], encoding: str) -> None:
    text = (HEADER + good(1) + good(2)).decode().replace("Maria", "Zoë")
    summary = ingest(bytes_node(text.encode(encoding)))
    assert (summary.loaded, summary.quarantined) == (2, 0)
    assert summary.encoding == {"utf-16": "utf-16-le"}.get(encoding, encoding.replace(
        "-sig", ""))


def test_missing_column_error_names_the_encoding(bytes_node: Callable[[bytes], Path]) -> None:
    data = b"record_id;first_name\r\nK1;Ann\r\n"
    with pytest.raises(Exception, match=r"read as utf-8"):
        ingest(bytes_node(data))


def test_missing_value_tokens_load_as_missing(
    bytes_node: Callable[[bytes], Path],
) -> None:
    node_dir = bytes_node(HEADER)
    toml = node_dir / "node.toml"
    text = toml.read_text()
    assert 'type = "number"' in text  # gpa
    source = Path(text.split('path = "', 1)[1].split('"', 1)[0])
    source.write_bytes(HEADER + good(1) + good(2).replace(b"3.4", b"N/A")
                       + good(3).replace(b"3.4", b"NULL") + good(4).replace(b",9,", b",-,"))
    summary = ingest(node_dir)
    assert (summary.loaded, summary.quarantined) == (4, 0)
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        attrs = {r.record_id: r.attributes for r in session.scalars(select(Record))}
    assert attrs["K12-0002"]["gpa"] is None and attrs["K12-0003"]["gpa"] is None
    assert attrs["K12-0004"]["grade_level"] is None and attrs["K12-0001"]["gpa"] == 3.4


def test_interrupted_run_marked_and_audited_at_next_start(
    bytes_node: Callable[[bytes], Path],
) -> None:
    node_dir = bytes_node(HEADER + good(1))
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        # What a killed ingest leaves: its run row, still running, never audited.
        killed = start_run(session, started_at="2026-01-01T00:00:00+00:00", source="csv:x",
                           strict=False)
        session.commit()
        killed_id = killed.id
    summary = ingest(node_dir)
    assert summary.interrupted_runs == [killed_id]
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        run = session.get(IngestRun, killed_id)
        assert run is not None and (run.status, run.audited) == ("interrupted", True)
    assert events(node_dir)[:2] == [("ingest", "interrupted", "interrupted"),
                                    ("ingest", "completed", "")]
    assert ingest(node_dir).interrupted_runs == []  # audited once only


def test_concurrent_ingest_refused_while_the_lock_is_held(
    bytes_node: Callable[[bytes], Path],
) -> None:
    node_dir = bytes_node(HEADER + good(1))
    fd = os.open(node_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(IngestError, match="another ingest") as refused:
            ingest(node_dir)
        assert refused.value.code == "ingest_running"
    finally:
        os.close(fd)
    assert ingest(node_dir).loaded == 1


def test_write_failure_marks_run_failed_and_audits_it(
    bytes_node: Callable[[bytes], Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    node_dir = bytes_node(HEADER + good(1) + good(2))

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("INSERT INTO records", {"raw_identity": "Maria Garcia"},
                               Exception("database or disk is full"))

    monkeypatch.setattr(loader, "upsert_records", disk_full)
    with pytest.raises(IngestError, match="could not write the node store") as failed:
        ingest(node_dir)
    assert failed.value.code == "write_failed" and "disk is full" in str(failed.value)
    assert "Maria" not in str(failed.value)  # SQLAlchemy's parameter dump is cut off
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        assert session.scalars(select(Record)).first() is None
        run = latest_run(session)
        assert run is not None and (run.status, run.audited) == ("failed", True)
        assert quarantine_of(session, run_id=run.id) == []
        assert "disk is full" in (run.failure or "") and "Maria" not in (run.failure or "")
    assert events(node_dir)[-1] == ("ingest", "failed", "write_failed")


def test_audit_write_failure_named_and_audited_by_the_next_ingest(
    bytes_node: Callable[[bytes], Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    node_dir = bytes_node(HEADER + good(1))

    def audit_fails(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    with NodeRuntime.open(node_dir) as runtime:
        monkeypatch.setattr(runtime.audit, "append", audit_fails)
        with pytest.raises(IngestError, match="audit event could not be written") as failed:
            run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
        assert failed.value.code == "audit_failed"
    monkeypatch.undo()
    ingest(node_dir)
    assert events(node_dir)[:2] == [("ingest", "completed", "late_audit"),
                                    ("ingest", "completed", "")]


def test_date_attribute_follows_date_order_and_names_the_format(
    tmp_path: Path, make_node: Callable[..., Path],
) -> None:
    source = tmp_path / "dated.csv"
    header = HEADER.replace(b"truth_id", b"exit_date")
    rows = [good(n).replace(f"P{n}".encode(), f"0{n}/2{n}/2019".encode()) for n in range(1, 4)]
    source.write_bytes(header + b"".join(rows))
    node_dir = make_node(source)
    assert 'type = "date"' in (node_dir / "node.toml").read_text()
    source.write_bytes(header + b"".join(rows) + good(4).replace(b"P4", b"24/11/2019"))
    summary = ingest(node_dir, max_quarantine_pct=100)
    assert (summary.loaded, summary.quarantined) == (3, 1)
    assert "expected a date as MM/DD/YYYY (date_order MDY)" in summary.sample[0]["detail"]
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        dates = {r.record_id: r.attributes for r in session.scalars(select(Record))}
    assert dates["K12-0002"]["exit_date"] == "2019-02-22"


_PIECES = st.sampled_from([b'"', b",", b"\r\n", b"\n", b"x", b'""', b"\r"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=st.lists(st.tuples(st.integers(min_value=0, max_value=11),
                                st.lists(_PIECES, min_size=1, max_size=4)), max_size=4),
       strict=st.booleans())
def test_run_accounting_adds_up_to_the_file_lines(
    bytes_node: Callable[[bytes], Path], noise: list[tuple[int, list[bytes]]], strict: bool,
) -> None:
    rows = [good(n) for n in range(1, 13)]
    for where, pieces in noise:  # garble rows with quotes, delimiters and line breaks
        rows[where] = rows[where][:9] + b"".join(pieces) + rows[where][9:]
    data = HEADER + b"".join(rows)
    node_dir = bytes_node(data)
    try:
        ingest(node_dir, strict=strict, max_quarantine_pct=100)
    except IngestError as exc:
        assert exc.code in ("failed_strict", "nothing_loaded")
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        run = latest_run(session)
        assert run is not None and run.accounting is not None
        lines = run.accounting
    expected = len(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").splitlines())
    assert lines["lines"] == expected
    parts = ("header", "blank", "loaded", "quarantined", "refused")
    assert sum(lines.get(k, 0) for k in parts) == expected


def test_full_disk_sqlite_store_fails_the_run_and_it_is_audited(
    bytes_node: Callable[[bytes], Path],
) -> None:
    """A real "database or disk is full": the store file may not grow past its size now."""
    node_dir = bytes_node(HEADER + b"".join(good(n) for n in range(1, 3001)))
    with NodeRuntime.open(node_dir) as runtime:
        with runtime.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        runtime.engine.dispose()  # new connections get the cap below

        @event.listens_for(runtime.engine, "connect")
        def cap(dbapi_connection: Any, _record: object) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {int(pages) + 2}")

        with pytest.raises(IngestError, match="disk is full") as failed:
            run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
        assert failed.value.code == "write_failed"
        with runtime.sessions() as session:
            assert session.scalars(select(Record)).first() is None
    summary = ingest(node_dir)  # the cap is gone: the next ingest loads and audits
    assert summary.loaded == 3000
    outcomes = [e for e in events(node_dir) if e[0] == "ingest"]
    assert ("ingest", "failed", "write_failed") in outcomes or (
        "ingest", "failed", "late_audit") in outcomes
    assert outcomes[-1] == ("ingest", "completed", "")
