"""``fedlink synth``: writes the three files; refuses bad input with one line, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from fedlink.cli import app, main


def _run_main(capsys, *args: str) -> tuple[int, str, str]:
    """Run the console entry point in-process: (exit code, stdout, stderr)."""
    try:
        main(["synth", *args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_synth_writes_the_three_agency_files(tmp_path):
    result = CliRunner().invoke(
        app, ["synth", "--people", "2000", "--seed", "3", "--out", str(tmp_path / "data")]
    )
    assert result.exit_code == 0, result.output
    for name in ("k12.csv", "highered.csv", "workforce.csv"):
        frame = pd.read_csv(tmp_path / "data" / name, dtype=str)
        assert len(frame) > 100
        assert frame.columns[0] == "record_id" and frame.columns[-1] == "truth_id"
        assert f"{name}: {len(frame):,} records" in result.stdout


def test_synth_same_seed_same_bytes_through_the_command(tmp_path):
    for sub in ("a", "b"):
        result = CliRunner().invoke(
            app, ["synth", "--people", "500", "--seed", "9", "--out", str(tmp_path / sub)]
        )
        assert result.exit_code == 0, result.output
    for name in ("k12.csv", "highered.csv", "workforce.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("people", ["0", "-5"])
def test_synth_nonpositive_people_is_one_line_error(capsys, tmp_path, people):
    code, _, err = _run_main(capsys, "--people", people, "--out", str(tmp_path))
    assert code != 0
    assert err == f"fedlink: error: --people must be at least 1 (got {people})\n"
    assert list(tmp_path.iterdir()) == []


def test_synth_people_zero_in_a_real_process_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "fedlink.cli", "synth", "--people", "0", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "fedlink: error: --people must be at least 1 (got 0)"
    ]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_synth_refuses_existing_files_without_overwrite(capsys, tmp_path):
    code, _, _ = _run_main(capsys, "--people", "300", "--seed", "1", "--out", str(tmp_path))
    assert code == 0
    before = (tmp_path / "workforce.csv").read_bytes()

    code, _, err = _run_main(capsys, "--people", "300", "--seed", "2", "--out", str(tmp_path))
    assert code != 0
    assert err.count("\n") == 1 and "already exists" in err and "--overwrite" in err
    assert (tmp_path / "workforce.csv").read_bytes() == before

    code, _, err = _run_main(
        capsys, "--people", "300", "--seed", "2", "--out", str(tmp_path), "--overwrite"
    )
    assert code == 0, err
    assert (tmp_path / "workforce.csv").read_bytes() != before


def test_synth_unwritable_out_is_one_line_error(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, _, err = _run_main(capsys, "--people", "10", "--out", str(blocker / "sub"))
    assert code != 0
    assert err.startswith("fedlink: error: cannot create") and err.count("\n") == 1
    code, _, err = _run_main(capsys, "--people", "10", "--out", str(blocker))
    assert code != 0
    assert err == f"fedlink: error: --out {blocker} exists and is not a directory\n"
