"""The synthetic population and its three agency extracts: determinism, shape, coverage
and the errors injected into them."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from nicknames import NickNamer

from fedlink.synth import AGENCY_FILES, COLUMNS, generate, write

PEOPLE = 20_000


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return generate(PEOPLE, seed=11)


def _fold(values: pd.Series) -> pd.Series:
    """Upper-case ASCII letters only: removes case, accents and formatting differences."""

    def one(value: object) -> str:
        if not isinstance(value, str):
            return ""
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c)
        )
        return re.sub(r"[^A-Z]", "", plain.upper())

    return values.map(one)


def _pairs(frames: dict[str, pd.DataFrame], a: str, b: str) -> pd.DataFrame:
    return frames[a].merge(frames[b], on="truth_id", suffixes=("_a", "_b"))


def test_same_seed_writes_identical_bytes(tmp_path):
    first = write(generate(3000, seed=5), tmp_path / "one")
    second = write(generate(3000, seed=5), tmp_path / "two")
    assert [p.name for p in first] == ["k12.csv", "highered.csv", "workforce.csv"]
    for x, y in zip(first, second, strict=True):
        assert x.read_bytes() == y.read_bytes()


def test_different_seeds_give_different_data():
    one, two = generate(3000, seed=5), generate(3000, seed=6)
    for key in AGENCY_FILES:
        assert not one[key].equals(two[key])
        assert set(one[key]["first_name"].head(50)) != set(two[key]["first_name"].head(50))


def test_written_files_have_exactly_the_agency_columns(frames, tmp_path):
    paths = write(frames, tmp_path)
    expected = {
        "k12.csv": ["record_id", "first_name", "middle_name", "last_name", "name_suffix", "dob",
                    "sex", "ssn", "postal_code", "street_address", "city", "school_year",
                    "grade", "school", "test_score", "sped_flag", "truth_id"],
        "highered.csv": ["record_id", "first_name", "middle_name", "last_name", "name_suffix",
                         "dob", "sex", "ssn", "postal_code", "street_address", "city",
                         "institution", "enroll_year", "degree", "gpa", "truth_id"],
        "workforce.csv": ["record_id", "first_name", "middle_name", "last_name", "name_suffix",
                          "dob", "sex", "ssn", "postal_code", "street_address", "city", "year",
                          "quarter", "industry", "quarterly_wage", "truth_id"],
    }  # fmt: skip
    for path in paths:
        read = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert list(read.columns) == expected[path.name]
        assert len(read) == len(frames[path.stem])
    assert {k: list(v) for k, v in COLUMNS.items()} == {
        "K12": expected["k12.csv"], "HE": expected["highered.csv"],
        "WF": expected["workforce.csv"],
    }  # fmt: skip


def test_k12_holds_no_ssns_and_the_others_mostly_do(frames):
    assert frames["k12"]["ssn"].isna().all()
    assert 0.75 < frames["highered"]["ssn"].notna().mean() < 0.95
    assert frames["workforce"]["ssn"].notna().mean() > 0.95
    assert frames["highered"]["ssn"].dropna().str.fullmatch(r"\d{3}-\d{2}-\d{4}").all()
    assert frames["workforce"]["ssn"].dropna().str.fullmatch(r"\d{9}").all()


def test_one_record_per_person_and_unique_agency_ids(frames):
    patterns = {"k12": r"K12-\d{7}", "highered": r"HE\d{8}", "workforce": r"UI20\d\dQ[1-4]-\d{9}"}
    for key, frame in frames.items():
        assert frame["truth_id"].is_unique
        assert frame["record_id"].is_unique
        assert frame["record_id"].str.fullmatch(patterns[key]).all()
    wf = frames["workforce"]
    assert (wf["record_id"].str[2:6].astype(int) == wf["year"]).all()


def test_each_pair_of_files_overlaps_partially_and_each_has_its_own_people(frames):
    ids = {key: set(frame["truth_id"]) for key, frame in frames.items()}
    for a, b in (("k12", "highered"), ("k12", "workforce"), ("highered", "workforce")):
        shared = ids[a] & ids[b]
        assert 0 < len(shared) < min(len(ids[a]), len(ids[b])), (a, b)
    for key in ids:
        others = set().union(*(ids[k] for k in ids if k != key))
        assert ids[key] - others, key
    # Higher-ed takes a majority of K-12 graduates (grade 12 seen before 2024).
    k12 = frames["k12"]
    grads = k12[(k12["grade"] == "12") & (k12["school_year"] <= 2022)]["truth_id"]
    assert 0.5 < grads.isin(ids["highered"]).mean() < 0.75


def test_each_agency_writes_dates_sex_and_names_its_own_way(frames):
    k12, he, wf = frames["k12"], frames["highered"], frames["workforce"]
    assert k12["dob"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert he["dob"].dropna().str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    assert wf["dob"].dropna().str.fullmatch(r"\d{8}").all()
    assert set(k12["sex"].dropna()) == {"M", "F"}
    assert set(he["sex"].dropna()) == {"Male", "Female"}
    assert set(wf["sex"].dropna()) == {"1", "2", "0"}
    assert (k12["last_name"] == k12["last_name"].str.upper()).all()
    assert (he["last_name"] == he["last_name"].str.title()).mean() > 0.99
    upper = (wf["last_name"] == wf["last_name"].str.upper()).mean()
    assert 0.35 < upper < 0.65  # mixed case
    assert not k12["postal_code"].str.contains("-").any()
    assert 0.1 < he["postal_code"].str.fullmatch(r"\d{5}-\d{4}").mean() < 0.3
    assert wf["postal_code"].str.fullmatch(r"\d{9}").any()


def test_names_differ_across_agencies_at_plausible_rates(frames):
    pairs = _pairs(frames, "k12", "workforce")
    differ = (_fold(pairs["first_name_a"]) != _fold(pairs["first_name_b"])).mean()
    assert 0.05 < differ < 0.30
    namer = NickNamer()
    nick = [
        b.lower() in namer.nicknames_of(a.lower())
        for a, b in zip(pairs["first_name_a"], pairs["first_name_b"], strict=True)
    ]
    assert 0.02 < np.mean(nick) < 0.15
    he = _pairs(frames, "k12", "highered")
    typo_like = _fold(he["last_name_a"]) != _fold(he["last_name_b"])
    assert 0.005 < typo_like.mean() < 0.10


def test_surname_changes_appear_mostly_in_workforce(frames):
    def changed(a: str, b: str) -> float:
        pairs = _pairs(frames, a, b)
        women = pairs[pairs["sex_a"].isin(["F", "Female", "2"])]
        return (_fold(women["last_name_a"]) != _fold(women["last_name_b"])).mean()

    assert changed("k12", "workforce") > 2 * changed("k12", "highered")


def test_some_birth_dates_have_day_and_month_swapped(frames):
    pairs = _pairs(frames, "k12", "highered")
    iso = pd.to_datetime(pairs["dob_a"], format="%Y-%m-%d")
    mdy = pd.to_datetime(pairs["dob_b"], format="%m/%d/%Y", errors="coerce")
    swapped = (
        (iso.dt.year == mdy.dt.year) & (iso.dt.month == mdy.dt.day)
        & (iso.dt.day == mdy.dt.month) & (iso.dt.day != iso.dt.month)
    )  # fmt: skip
    assert 0.002 < swapped.mean() < 0.03
    assert ((iso == mdy) | mdy.isna()).mean() > 0.95


def test_twins_share_surname_birth_date_and_address_but_not_first_name(frames):
    k12 = frames["k12"]
    keys = ["last_name", "dob", "street_address"]
    groups = k12[k12.groupby(keys)["truth_id"].transform("nunique") > 1]
    pairs = groups.merge(groups, on=keys)
    pairs = pairs[pairs["truth_id_x"] < pairs["truth_id_y"]]
    # 1% of people are twins; about a third of them school in-state in the data years.
    assert len(pairs) > PEOPLE * 0.01 / 2 * 0.2
    assert (pairs["first_name_x"] != pairs["first_name_y"]).mean() > 0.95
    assert (pairs["school_x"] == pairs["school_y"]).all()  # same grade, same school
    assert (pairs["grade_x"] == pairs["grade_y"]).all()


def test_accented_and_compound_surnames_are_in_the_population(frames):
    he = frames["highered"]
    assert he["first_name"].str.contains(r"[^\x00-\x7f]").any()
    assert he["last_name"].str.contains(r"[^\x00-\x7f]").any()
    assert he["last_name"].str.contains(r"\w-\w").mean() > 0.01
    # K-12 strips accents and upper-cases; hyphens stay.
    assert not frames["k12"]["last_name"].str.contains(r"[^\x00-\x7f]").any()
    assert frames["k12"]["last_name"].str.contains(r"[A-Z]-[A-Z]").any()


def test_workforce_ssns_include_adjacent_digit_transpositions(frames):
    pairs = _pairs(frames, "highered", "workforce").dropna(subset=["ssn_a", "ssn_b"])
    he = pairs["ssn_a"].str.replace("-", "")
    wf = pairs["ssn_b"]

    def transposed(a: str, b: str) -> bool:
        diff = [i for i in range(9) if a[i] != b[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]

    flags = [transposed(a, b) for a, b in zip(he, wf, strict=True)]
    assert 0.005 < np.mean(flags) < 0.04
    assert (he == wf).mean() > 0.95


def test_people_move_between_agencies(frames):
    pairs = _pairs(frames, "k12", "workforce")
    moved = pairs["postal_code_a"].str[:5] != pairs["postal_code_b"].str[:5]
    assert 0.3 < moved.mean() < 0.8


def test_generate_refuses_an_empty_population():
    with pytest.raises(ValueError, match="at least 1"):
        generate(0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        generate(10, seed=-1)


def test_write_refuses_existing_files_unless_overwrite(tmp_path):
    small = generate(200, seed=2)
    write(small, tmp_path)
    before = (tmp_path / "k12.csv").read_bytes()
    with pytest.raises(FileExistsError):
        write(generate(200, seed=3), tmp_path)
    assert (tmp_path / "k12.csv").read_bytes() == before
    write(generate(200, seed=3), tmp_path, overwrite=True)
    assert (tmp_path / "k12.csv").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["k12.csv", "highered.csv", "workforce.csv"]
    )
