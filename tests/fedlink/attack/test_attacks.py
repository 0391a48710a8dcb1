"""The curious-hub attacks on the legacy encoding of a 2,000-person project.

One run shared by the tests, its project keys (and the attacker's own) drawn from a fixed
seed so the suite is reproducible; the thresholds sit below the worst of 100 runs under
different keys (docs/privacy-attacks.md, "Across key draws"), where random keys are
measured.
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from fedlink.attack import run_privacy
from fedlink.cli import app, main


@pytest.fixture(scope="module")
def legacy() -> dict[str, Any]:
    return run_privacy(2000, 0, ("legacy",), key_seed=2026)["schemes"]["legacy"]


def _row(result: dict[str, Any], attack: str, target: str) -> dict[str, Any]:
    (row,) = [r for r in result["rows"] if r["attack"] == attack and r["target"] == target]
    return row


def test_first_and_last_name_recovered_together(legacy):
    row = _row(legacy, "graph+patterns", "full_name")
    assert row["recall"] >= 0.85
    assert row["precision"] >= 0.97


@pytest.mark.parametrize(("target", "recall"), [("first_name", 0.93), ("last_name", 0.87),
                                                ("middle_name", 0.93)])  # fmt: skip
def test_each_name_recovered(legacy, target, recall):
    row = _row(legacy, "graph+patterns", target)
    assert row["recall"] >= recall
    assert row["precision"] >= 0.97


def test_pattern_mining_beats_the_prior_and_frequency_alignment(legacy):
    prior = _row(legacy, "prior", "bf_last_name")
    frequency = _row(legacy, "frequency", "bf_last_name")
    mined = _row(legacy, "graph+patterns", "bf_last_name")
    assert prior["recall"] < 0.05
    assert mined["recall"] > frequency["recall"] + 0.5


def test_ssn_dob_token_count_tells_birth_day_at_most_12(legacy):
    (leak,) = [
        x for x in legacy["leaks"]["token_counts"]
        if x["column"] == "mk_ssn_dob" and x["attribute"] == "day_le_12"
    ]  # fmt: skip
    assert leak["accuracy"] >= 0.99
    assert leak["baseline"] < 0.8


def test_bit_count_tracks_name_length(legacy):
    assert legacy["leaks"]["bit_count_vs_length_r"]["bf_first_name"] > 0.9
    assert legacy["leaks"]["null_share"]["bf_middle_name"] > 0.2


def test_bad_scheme_is_a_one_line_error(capsys):
    result = CliRunner().invoke(app, ["attack", "--scheme", "nope"])
    assert result.exit_code != 0
    try:
        main(["attack", "--scheme", "nope"])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    _, err = capsys.readouterr()
    assert code != 0
    assert err == "fedlink: error: --scheme must be one of legacy, current, both (got 'nope')\n"


def test_bad_people_is_a_one_line_error(capsys):
    try:
        main(["attack", "--people", "0"])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    _, err = capsys.readouterr()
    assert code != 0
    assert err.count("\n") == 1 and "--people" in err


def test_run_privacy_refuses_an_unknown_scheme():
    with pytest.raises(ValueError, match="unknown scheme"):
        run_privacy(10, 0, ("rot13",))


def test_command_tables_render_the_results(legacy):
    from rich.console import Console

    from fedlink.commands.attack import _leaks_table, _results_table

    results = {"people": 2000, "seed": 0, "schemes": {"legacy": legacy}}
    console = Console(record=True, width=200)
    console.print(_results_table(results))
    console.print(_leaks_table(results))
    text = console.export_text()
    assert "graph+patterns" in text and "full_name" in text and "mk_ssn_dob" in text
