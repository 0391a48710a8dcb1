"""``fedlink output protect``: a CSV of counts, or a group-by over the decrypted extract on
the researcher's machine (only the counts reach the hub), back suppressed and rounded per
the project's policy, then submitted to the airlock — in process through
:func:`fedlink.cli.main`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fedlink import hub_options
from hub.persistence import audit as audit_store
from tests.cli_support import run, write_token
from tests.hub.api.test_safe_outputs_api import TABLE, _ready


@pytest.fixture
def cli_hub(hub: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(hub_options, "transport", hub.client._transport)
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    monkeypatch.delenv("FEDLINK_TOKEN", raising=False)
    return hub


def _researcher(hub: Any, tmp_path: Path) -> tuple[str, str]:
    token = hub.token("researcher", email="ada@uni.example")
    return token, write_token(tmp_path, "researcher", token)


def test_protect_a_csv_then_submit_to_the_airlock(cli_hub: Any, tmp_path: Path,
                                                  capsys: Any) -> None:
    token, token_file = _researcher(cli_hub, tmp_path)
    project = _ready(cli_hub, token)
    table = tmp_path / "counts.csv"
    table.write_text(TABLE, encoding="utf-8")
    protected = tmp_path / "protected.csv"
    code, out, err = run(capsys, "output", "protect", project, "--csv", str(table),
                         "--out", str(protected), "--submit", "--name", "By school",
                         "--token-file", token_file)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].split() == ["Oak", "*", "*", "16"]
    assert "(Oak, Female) primary: a count below 10" in out
    assert "suppressed: 1 primary, 3 complementary" in out
    assert "airlock checks: pass" in out
    assert protected.read_text(encoding="utf-8").startswith(
        "school,Female,Male,Total\nOak,*,*,16\n")
    submitted = lines[-1].split()
    assert submitted[:4] == ["submitted", "to", "the", "airlock:"]
    assert submitted[4].startswith("out-") and submitted[5] == "pending_review"


def test_group_by_over_the_extract_sends_only_counts(cli_hub: Any, tmp_path: Path,
                                                     capsys: Any) -> None:
    token, token_file = _researcher(cli_hub, tmp_path)
    project = _ready(cli_hub, token)
    # An extract table: one row per person and period (a person counts once per cell).
    schools = ["Oak"] * 3 + ["Elm"] * 40 + ["Pine"] * 50
    people = list(range(len(schools)))
    pq.write_table(pa.table({
        "person_id": [f"p{i}" for i in people + people[:5]],
        "period": [2019] * len(people) + [2020] * 5,
        "school": schools + schools[:5],
        "ell": [i % 2 == 0 for i in people] + [True] * 5,
    }), tmp_path / "agency_K12.parquet")
    code, out, err = run(capsys, "output", "protect", project, "--table",
                         str(tmp_path / "agency_K12.parquet"), "--rows", "school",
                         "--columns", "ell", "--json", "--token-file", token_file)
    assert code == 0, err
    view = json.loads(out)
    assert view["row_labels"] == ["Elm", "Oak", "Pine", "Total"]
    assert view["column_labels"] == ["false", "true", "Total"]
    # Oak: person 1 is ell false in 2019 and true in 2020, so counted in both cells.
    assert [c["status"] for c in view["cells"][1]] == ["primary", "primary", "primary"]
    # Elm (20 false, 21 true, 41: the smallest other cells) is Oak's complement in every
    # column; Pine 25 and 25; the totals are the sums of the cells.
    assert [c["status"] for c in view["cells"][0]] == ["complementary"] * 3
    assert [c["value"] for c in view["cells"][2]] == [25, 25, 50]
    assert view["cells"][3][2] == {"value": 95, "status": "published", "reason": None}
    with cli_hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action="output.protected")
    assert events[0].detail["group_by"] == {"rows": "school", "columns": "ell"}


def test_one_line_errors(cli_hub: Any, tmp_path: Path, capsys: Any) -> None:
    token, token_file = _researcher(cli_hub, tmp_path)
    project = _ready(cli_hub, token)
    table = tmp_path / "bad.csv"
    table.write_text("school,Female,Male\nOak,-3,13\nElm,20,30\n", encoding="utf-8")
    code, out, err = run(capsys, "output", "protect", project, "--csv", str(table),
                         "--token-file", token_file)
    assert code != 0 and out == ""
    assert "negative" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "output", "protect", project, "--csv", str(table),
                       "--table", str(table), "--rows", "x", "--token-file", token_file)
    assert code != 0 and "either --csv" in err
    code, _, err = run(capsys, "output", "protect", project, "--csv", str(table), "--submit",
                       "--token-file", token_file)
    assert code != 0 and "--submit needs --name" in err


def test_protect_is_listed_under_output(capsys: Any) -> None:
    code, out, _ = run(capsys, "output", "--help")
    assert code == 0 and "protect" in out
