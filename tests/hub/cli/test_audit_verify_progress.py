"""The progress hook behind `fedlink audit verify --dir`: events verified, increasing, ending
at the chain's length; the command's report is unchanged, the bar only on a terminal."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedlink.cli import main
from hub.services import audit_verify


@pytest.fixture
def hub_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    directory = tmp_path / "hub"
    try:
        main(["hub", "init", "--dir", str(directory)])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    for n in range(3):  # a few more events: agencies added
        try:
            main(["hub", "agency", "add", f"AG{n}", "--name", f"Agency {n}",
                  "--url", f"https://ag{n}.example:8443", "--dir", str(directory)])
        except SystemExit as exc:
            assert exc.code in (0, None), capsys.readouterr().err
    capsys.readouterr()
    return directory


def test_offline_verify_reports_events_verified(hub_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_verify, "PROGRESS_EVERY", 1)
    calls: list[tuple[int, int | None]] = []
    summary = audit_verify.verify_offline(
        hub_dir, progress=lambda done, total: calls.append((done, total)))
    counts = [done for done, _ in calls]
    events = int(summary.split("intact: ")[1].split(" events")[0])
    assert events >= 4
    assert counts == list(range(1, events + 1))
    assert all(a < b for a, b in itertools.pairwise(counts))
    assert {total for _, total in calls} == {events}


def test_offline_verify_command_with_a_terminal_bar(hub_dir: Path) -> None:
    argv = [sys.executable, "-m", "fedlink.cli", "audit", "verify", "--dir", str(hub_dir)]
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith("hub audit chain intact: ")
    assert plain.stderr == ""
    bar = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1",
                              "COLUMNS": "100"})
    assert bar.returncode == 0, bar.stderr
    assert bar.stdout == plain.stdout
    assert "events verified" in bar.stderr
