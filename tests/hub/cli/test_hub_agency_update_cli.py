"""``fedlink hub agency update``: rename, move, re-enrolment token; bad input is one line."""

from __future__ import annotations

import re
from pathlib import Path

from fedlink.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _hub(tmp_path: Path, capsys) -> Path:
    directory = tmp_path / "hub"
    assert run(capsys, "hub", "init", "--dir", str(directory))[0] == 0
    code, _, err = run(capsys, "hub", "agency", "add", "K12", "--dir", str(directory),
                       "--name", "K12", "--url", "http://k12:8101")
    assert code == 0, err
    return directory


def test_agency_update_renames_and_issues_reenrolment_token(tmp_path: Path, capsys) -> None:
    directory = _hub(tmp_path, capsys)
    code, out, err = run(capsys, "hub", "agency", "update", "K12", "--dir", str(directory),
                         "--name", "Schools", "--url", "https://k12.example:8101", "--reenrol")
    assert code == 0, err
    assert "agency K12 (Schools, https://k12.example:8101) updated" in out
    assert re.search(r"re-enrolment token \(one use, expires in \d+ h\): fle_\S+", out)
    assert "--rotate-key" in out


def test_agency_update_unknown_agency_is_one_line(tmp_path: Path, capsys) -> None:
    directory = _hub(tmp_path, capsys)
    code, _, err = run(capsys, "hub", "agency", "update", "NOPE", "--dir", str(directory),
                       "--reenrol")
    assert code != 0
    assert err.startswith("fedlink: error:") and "does not exist" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_agency_update_with_nothing_to_change_refused(tmp_path: Path, capsys) -> None:
    directory = _hub(tmp_path, capsys)
    code, _, err = run(capsys, "hub", "agency", "update", "K12", "--dir", str(directory))
    assert code != 0 and "nothing to update" in err


def test_agency_add_existing_points_at_update(tmp_path: Path, capsys) -> None:
    directory = _hub(tmp_path, capsys)
    code, _, err = run(capsys, "hub", "agency", "add", "K12", "--dir", str(directory),
                       "--name", "K12", "--url", "http://k12:8101")
    assert code != 0 and "fedlink hub agency update" in err
