"""End to end through the `fedlink` command: `synth --longitudinal`, then `node init`,
`node ingest`, `node profile --json` and `node dictionary show --json` on each agency's
file — persons, rows per person and periods as the files hold them, a reused id
quarantined, and no person id or identity value in what the dictionary shows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from agency_node.config import read_config
from fedlink.cli import main
from fedlink.synth.longitudinal import PERIOD, PERSON_ID

AGENCIES = {"k12": "K12", "highered": "HE", "workforce": "WF"}
KINDS = {"K12": "school_year", "HE": "term", "WF": "quarter"}


def run(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("longitudinal")
    assert run("synth", "--people", "400", "--seed", "8", "--longitudinal", "--out",
               str(out)) == 0
    return out


@pytest.mark.parametrize("name", list(AGENCIES))
def test_longitudinal_file_ingests_into_persons_and_periods(
    name: str, synth_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = AGENCIES[name]
    source = synth_dir / f"{name}.csv"
    node_dir = tmp_path / name
    assert run("node", "init", "--agency", code, "--name", name, "--dir", str(node_dir),
               "--source", str(source)) == 0
    config = read_config(node_dir)
    assert config.mapping.person_id == PERSON_ID[code]
    assert config.mapping.period_column == PERIOD[code]
    assert run("node", "ingest", "--dir", str(node_dir)) == 0
    capsys.readouterr()
    assert run("node", "profile", "--dir", str(node_dir), "--json") == 0
    persons = json.loads(capsys.readouterr().out)["persons"]

    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    per_person = frame.groupby(PERSON_ID[code]).size()
    assert persons["rows"] == len(frame)
    assert persons["persons"] == frame[PERSON_ID[code]].nunique()
    assert persons["rows_per_person"] == {"min": int(per_person.min()),
                                          "median": float(per_person.median()),
                                          "max": int(per_person.max())}
    assert persons["reused_person_ids"] == 0  # clerks' errors never look like a reused id
    assert persons["persons_with_several_identity_versions"] > 0
    (period,) = persons["periods"]
    assert period["kind"] == KINDS[code] and period["rows"] == len(frame)
    values = frame[PERIOD[code]]
    if code in ("K12", "WF"):  # school years and quarters sort as text
        assert (period["first"], period["last"]) == (values.min(), values.max())
    else:  # terms: spring comes before fall within a year
        assert period["first"].endswith("FA") and period["last"][:4] == values.str[:4].max()

    assert run("node", "dictionary", "show", "--dir", str(node_dir), "--json") == 0
    shown = capsys.readouterr().out
    grain = json.loads(shown)["persons"]
    assert grain["persons"] == persons["persons"]
    for column in (PERSON_ID[code], "first_name", "last_name"):
        assert frame[column].iloc[0] not in shown


def test_longitudinal_reused_id_is_quarantined_not_merged(
    synth_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(synth_dir / "k12.csv", dtype=str, keep_default_na=False)
    rows_of = frame.groupby("state_student_id").size()
    victim = rows_of[rows_of >= 3].index[0]
    stranger = frame[frame["state_student_id"] != victim].iloc[0].copy()
    stranger["state_student_id"] = victim
    stranger["first_name"], stranger["dob"] = "XAVIERA", "1961-12-25"
    stranger["record_id"] = "K12-9999999"
    source = tmp_path / "k12.csv"
    pd.concat([frame, stranger.to_frame().T]).to_csv(source, index=False)
    node_dir = tmp_path / "k12"
    assert run("node", "init", "--agency", "K12", "--name", "k12", "--dir", str(node_dir),
               "--source", str(source)) == 0
    assert run("node", "ingest", "--dir", str(node_dir)) == 0
    capsys.readouterr()
    assert run("node", "profile", "--dir", str(node_dir), "--json") == 0
    profile = json.loads(capsys.readouterr().out)
    persons = profile["persons"]
    assert persons["reused_person_ids"] == 1
    assert persons["reused_person_id_rows"] == int(rows_of[victim]) + 1
    assert persons["persons"] == frame["state_student_id"].nunique() - 1
    assert profile["latest_ingest"]["reasons"] == {"reused_person_id": int(rows_of[victim]) + 1}
    assert run("node", "profile", "--dir", str(node_dir)) == 0
    text = capsys.readouterr().out
    assert "reused person ids in the latest ingest: 1" in text and victim not in text
