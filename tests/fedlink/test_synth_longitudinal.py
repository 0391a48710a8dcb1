"""``fedlink synth --longitudinal``: one row per person per period under agency person ids,
with duplicate ids, name changes and moves; the default files are unchanged by it."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pandas as pd
import pytest
from typer.testing import CliRunner

from fedlink.cli import app
from fedlink.synth import generate, write
from fedlink.synth.longitudinal import DUPLICATE_ID_SHARE, LONGITUDINAL_COLUMNS, PERIOD, PERSON_ID

PEOPLE = 8_000
CODES = {"k12": "K12", "highered": "HE", "workforce": "WF"}
#: SHA-256 of the default files of ``generate(300, seed=5)``, taken before the longitudinal
#: option existed: the option must leave today's files byte for byte as they were.
DEFAULT_DIGESTS = {
    "k12.csv": "b871d7dc91a8214d4f870affa33e8582683727cca791d6a1dd11ffc69265cf2c",
    "highered.csv": "d53ab0efb0075e12278baccb1c365da05b51c2790d57473d4f6ba292318f204e",
    "workforce.csv": "9ef6e7b860148d374f258cd414cdb38fd326a4fa37b7899ba30faaaf03b43e94",
}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return generate(PEOPLE, seed=4, longitudinal=True)


def _fold(value: object) -> str:
    if not isinstance(value, str):
        return ""
    plain = "".join(c for c in unicodedata.normalize("NFKD", value)
                    if not unicodedata.combining(c))
    return re.sub(r"[^A-Z]", "", plain.upper())


def test_default_output_is_byte_identical_to_before_the_option(tmp_path):
    paths = write(generate(300, seed=5), tmp_path)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths} == DEFAULT_DIGESTS


def test_longitudinal_same_seed_same_bytes_other_seed_differs(tmp_path):
    one = write(generate(1500, seed=9, longitudinal=True), tmp_path / "a")
    two = write(generate(1500, seed=9, longitudinal=True), tmp_path / "b")
    other = generate(1500, seed=10, longitudinal=True)
    for x, y in zip(one, two, strict=True):
        assert x.read_bytes() == y.read_bytes()
    assert not other["k12"].equals(pd.read_csv(one[0], dtype=str))


def test_longitudinal_files_have_person_id_period_and_truth_columns(frames):
    for key, frame in frames.items():
        code = CODES[key]
        assert tuple(frame.columns) == LONGITUDINAL_COLUMNS[code]
        assert frame["record_id"].is_unique
        assert frame[PERSON_ID[code]].notna().all() and frame[PERIOD[code]].notna().all()


def test_each_agency_holds_many_rows_per_person_and_one_per_period(frames):
    patterns = {"k12": r"\d{4}-\d\d", "highered": r"\d{4}(FA|SP)", "workforce": r"\d{4}Q[1-4]"}
    for key, frame in frames.items():
        period = PERIOD[CODES[key]]
        assert frame[period].str.fullmatch(patterns[key]).all()
        per_person = frame.groupby("truth_id").size()
        assert per_person.median() >= 3 and per_person.max() > per_person.min()
        # One row per person per period: never two rows of one person in one period.
        assert not frame.duplicated(["truth_id", period]).any()


def test_k12_school_year_and_grade_advance_together(frames):
    k12 = frames["k12"]
    grade = k12["grade"].replace("KG", "00").astype(int)
    start = k12["school_year"].str[:4].astype(int)
    assert (start - grade).groupby(k12["truth_id"]).nunique().max() == 1


def test_duplicate_person_id_share_is_within_one_to_three_percent(frames):
    for key, frame in frames.items():
        code = CODES[key]
        ids = frame.groupby("truth_id")[PERSON_ID[code]].nunique()
        share = (ids > 1).mean()
        assert 0.01 <= share <= 0.03
        assert share == pytest.approx(DUPLICATE_ID_SHARE[code], abs=0.002)
        assert ids.max() == 2
        # An id is one person's: duplicates split a person, never merge two.
        assert frame.groupby(PERSON_ID[code])["truth_id"].nunique().max() == 1


def test_surnames_change_over_time_and_between_agencies(frames):
    wf = frames["workforce"].assign(surname=lambda f: f["last_name"].map(_fold))
    changed = wf.groupby("truth_id")["surname"].nunique()
    assert (changed > 1).mean() > 0.01
    k12 = frames["k12"].assign(surname=lambda f: f["last_name"].map(_fold))
    both = k12.groupby("truth_id")["surname"].first().to_frame("k12").join(
        wf.groupby("truth_id")["surname"].last().to_frame("wf"), how="inner")
    assert (both["k12"] != both["wf"]).mean() > 0.05  # maiden name at school, married at work


def test_people_move_across_periods(frames):
    k12 = frames["k12"]
    moved = k12.groupby("truth_id")["postal_code"].nunique()
    assert 0.05 < (moved > 1).mean() < 0.9
    schools = k12.groupby("truth_id")["school"].nunique()
    assert (schools > 1).mean() > 0.3  # grades change school, and so do moves


def test_synth_longitudinal_option_writes_rows_through_the_command(tmp_path):
    result = CliRunner().invoke(app, ["synth", "--people", "500", "--seed", "2",
                                      "--longitudinal", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    workforce = pd.read_csv(tmp_path / "workforce.csv", dtype=str)
    assert list(workforce.columns) == list(LONGITUDINAL_COLUMNS["WF"])
    assert f"workforce.csv: {len(workforce):,} rows" in result.stdout
