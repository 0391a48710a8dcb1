"""``fedlink node dictionary show|publish`` and the ingest hint, in process."""

from __future__ import annotations

import json
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


def test_ingest_then_show_flags_placeholders_and_unpublished(node_dir: Path, capsys) -> None:
    code, out, err = run(capsys, "node", "ingest", "--dir", str(node_dir))
    assert code == 0, err
    assert "not published from this node yet" in out
    assert "placeholder descriptions" in out and "grade_level" in out
    code, out, err = run(capsys, "node", "dictionary", "show", "--dir", str(node_dir), "--json")
    assert code == 0, err
    shown = json.loads(out)
    grade = next(v for v in shown["dictionary"] if v["name"] == "grade_level")
    assert grade["years"] == [2019, 2020, 2021] and grade["description_placeholder"]
    assert "grade_level" in shown["placeholders"]
    assert shown["unpublished_changes"] == ["never published from this node"]


def test_publish_before_enrolment_is_one_line(node_dir: Path, capsys) -> None:
    code, _, err = run(capsys, "node", "dictionary", "publish", "--dir", str(node_dir))
    assert code != 0
    assert err.startswith("fedlink: error:") and "enroll first" in err
    assert len(err.strip().splitlines()) == 1
