"""fedlink.progress: a transient bar on stderr, only on a terminal; `run status --wait`
counts the run's finished steps."""

from __future__ import annotations

import pytest

from fedlink.commands.run import steps_done
from fedlink.progress import progress_bar


def test_no_bar_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    with progress_bar("ingest", unit="rows read") as report:
        for done in range(0, 1000, 100):
            report(done)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_bar_on_a_terminal_shows_real_counts(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    monkeypatch.setenv("COLUMNS", "100")
    with progress_bar("audit verify", unit="events verified") as report:
        report(40, 1234)
        report(1234)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "1,234 of 1,234 events verified" in captured.err


def test_steps_done_counts_succeeded_steps() -> None:
    run = {"steps": [{"step": "node", "agency": "K12", "status": "succeeded"},
                     {"step": "node", "agency": "DOL", "status": "running"},
                     {"step": "link", "status": "pending"},
                     {"step": "store", "status": "pending"}]}
    assert steps_done(run) == (1, 4)
    for step in run["steps"]:
        step["status"] = "succeeded"
    assert steps_done(run) == (4, 4)
    assert steps_done({"steps": []}) == (0, 0)


def test_link_progress_reads_the_running_link_steps_stage() -> None:
    from fedlink.commands.run import link_progress

    running = {"steps": [{"step": "node", "agency": "K12", "status": "succeeded"},
                         {"step": "link", "status": "running",
                          "counts": {"stage": "compare", "completed": 5, "total": 16}}]}
    assert link_progress(running) == ("compare", 5, 16)
    finished = {"steps": [{"step": "link", "status": "succeeded", "counts": {"links": 3}}]}
    assert link_progress(finished) is None
