"""The progress hooks behind `fedlink node ingest` and `fedlink audit verify --node-dir`:
real counts (rows read, events verified), increasing, ending at the true total."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agency_node.ingest import loader
from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.services import audit as node_audit
from tests.agency_node.conftest import PEOPLE, write_csv


def _people(n: int) -> list[dict[str, str]]:
    return [{**PEOPLE[i % len(PEOPLE)], "record_id": f"K12-{i:05d}"} for i in range(n)]


def test_ingest_reports_rows_read(tmp_path: Path, make_node: Callable[..., Path]) -> None:
    node_dir = make_node(write_csv(tmp_path / "k12.csv", _people(450)))
    seen: list[int] = []
    with NodeRuntime.open(node_dir) as runtime:
        summary = run_ingest(runtime.settings.node, runtime.sessions, runtime.audit,
                             progress=seen.append)
    assert summary.rows == 450 and summary.loaded == 450
    every = loader.PROGRESS_EVERY
    assert seen == [*range(every, 450, every), 450]
    assert all(a < b for a, b in itertools.pairwise(seen))


def test_ingest_reports_nothing_without_a_hook(tmp_path: Path,
                                               make_node: Callable[..., Path]) -> None:
    node_dir = make_node(write_csv(tmp_path / "k12.csv", _people(3)))
    with NodeRuntime.open(node_dir) as runtime:
        summary = run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
    assert summary.loaded == 3


def test_node_audit_verify_reports_events_verified(node_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(node_audit, "PROGRESS_EVERY", 2)
    calls: list[tuple[int, int | None]] = []
    with NodeRuntime.open(node_dir) as runtime:
        for n in range(5):
            runtime.audit.append(actor="operator", typ="test", outcome="ok",
                                 details={"n": n})
        report = runtime.audit.verify(progress=lambda done, total: calls.append((done, total)))
    counts = [done for done, _ in calls]
    assert counts[-1] == report.events >= 5
    assert all(a < b for a, b in itertools.pairwise(counts))
    assert len(counts) == (report.events + 1) // 2  # every 2nd event, and the last
    assert {total for _, total in calls} == {report.events}


def test_node_ingest_output_with_a_terminal_bar(tmp_path: Path,
                                                make_node: Callable[..., Path]) -> None:
    """With stderr taken for a terminal the bar is drawn there; stdout is the same report."""
    node_dir = make_node(write_csv(tmp_path / "k12.csv", _people(300)))
    argv = [sys.executable, "-m", "fedlink.cli", "node", "ingest", "--dir", str(node_dir)]
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    assert "300 rows, 300 loaded, 0 quarantined" in plain.stdout
    assert "rows read" not in plain.stderr  # not a terminal: no bar
    bar = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1",
                              "COLUMNS": "100"})
    assert bar.returncode == 0, bar.stderr
    assert "300 rows, 300 loaded, 0 quarantined" in bar.stdout
    assert "rows read" in bar.stderr
