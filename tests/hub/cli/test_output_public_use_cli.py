"""``fedlink output public-use``: a researcher's record-level file comes back made safe
(every column measured, the methods per column reported), written with ``--out`` and sent
to the airlock with ``--submit``; a file that cannot be made safe is a one-line error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli_support import run, write_token
from tests.hub.api.test_public_use_api import PUBLIC, _ready, _sch_file


def test_researcher_makes_a_public_use_file_and_submits_it(cli_hub: Any, tmp_path: Path,
                                                           capsys: Any) -> None:
    hub = cli_hub
    researcher = hub.token("researcher", email="ada@uni.example")
    project = _ready(hub, researcher, **PUBLIC)
    records = tmp_path / "pupils.csv"
    records.write_text(_sch_file(), encoding="utf-8")
    released = tmp_path / "public.csv"
    mine = write_token(tmp_path, "researcher", researcher)
    code, out, err = run(capsys, "output", "public-use", project, "--csv", str(records),
                         "--out", str(released), "--submit", "--name", "Pupils",
                         "--token-file", mine)
    assert code == 0, err
    assert "before: " in out and "sample uniques" in out
    assert "after:  0 sample uniques, 0 records below k" in out
    assert "  sch: global recoding" in out
    assert "airlock checks: passed" in out
    assert "pending_review" in out.splitlines()[-1]
    text = released.read_text(encoding="utf-8")
    assert text.startswith("sch,grade,sex\n") and "S30" not in text


def test_unsafe_file_is_a_one_line_error(cli_hub: Any, tmp_path: Path, capsys: Any) -> None:
    hub = cli_hub
    researcher = hub.token("researcher", email="ada@uni.example")
    project = _ready(hub, researcher, **PUBLIC)
    records = tmp_path / "ids.csv"
    records.write_text("pupil,sex\n" + "".join(f"P{i:04d},F\n" for i in range(100)),
                       encoding="utf-8")
    code, out, err = run(capsys, "output", "public-use", project, "--csv", str(records),
                         "--token-file", write_token(tmp_path, "r", researcher))
    assert code != 0 and out == ""
    assert "public_use_unsafe" in err and "identifier_like (pupil)" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["public-use"], ["protect"],
                                     ["submit", "--name", "t"]])
def test_missing_csv_file_is_a_one_line_usage_error(command: list[str], tmp_path: Path,
                                                    capsys: Any) -> None:
    """Every `fedlink output` command reading --csv says so in one line, before any call."""
    missing = tmp_path / "missing.csv"
    code, out, err = run(capsys, "output", command[0], "P-1", "--csv", str(missing),
                         *command[1:], "--hub", "http://127.0.0.1:9", "--token-file",
                         write_token(tmp_path, "r", "t" * 40))
    assert code == 2 and out == ""
    assert err.strip() == f"fedlink: error: {missing} does not exist"
