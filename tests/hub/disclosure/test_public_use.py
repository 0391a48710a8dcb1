"""Public-use files measured on the data (docs/public-use-files.md): every column is a key
variable whatever its name; sample uniques, minimal sample uniques and per-record risk are
counted on the values; the standard methods recode or suppress until no combination of up
to three columns has a class below k, or the file is refused."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from hub.disclosure.public_use import SUPPRESSED, RiskRules, measure
from hub.disclosure.public_use_methods import OTHER, protect

RULES = RiskRules(k=5)


def _schools(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    """The issue's ``sch`` case: 30 schools, a grade and a sex; one school has one pupil."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"sch": rng.integers(1, 30, n).astype(str),
                          "grade": rng.integers(3, 6, n).astype(str),
                          "sex": rng.choice(["F", "M"], n)})
    frame.loc[0, "sch"] = "30"  # the only pupil of school 30
    return frame


def test_unique_school_is_caught_on_the_values_whatever_the_column_is_called() -> None:
    for name in ("sch", "col_b", "flag"):
        frame = _schools().rename(columns={"sch": name})
        risk = measure(frame, RULES)
        assert not risk.passed
        assert risk.min_class[0] == 1 and risk.msus_by_size.get(1) == 1
        assert risk.column_msus[name] >= 1
        checks = {f["check"] for f in risk.findings()}
        assert {"sample_unique", "small_class"} <= checks
        assert "30" not in " ".join(f["detail"] for f in risk.findings())


def test_minimal_sample_uniques_and_scores_on_a_small_file() -> None:
    # Row 0 is unique on (a, b) but on neither a nor b alone: one MSU of size 2.
    # Row 4 is unique on c alone: an MSU of size 1 (scored higher), and every larger
    # combination with c is unique but not minimal.
    frame = pd.DataFrame({"a": ["x", "x", "y", "y", "y"], "b": ["p", "q", "p", "p", "q"],
                          "c": ["m", "m", "m", "m", "n"]})
    risk = measure(frame, RiskRules(k=2, max_size=3))
    assert risk.msus_by_size[1] == 1 and risk.msus_by_size[2] >= 1
    assert risk.suda_score[4] > risk.suda_score[0] > 0
    assert risk.suda_score[2] == 0 and risk.suda_score[3] == 0  # (y, p, m) twice
    report = risk.report()
    assert report["special_uniques"] == int((risk.suda_score > 0).sum())
    assert report["max_risk"] == 1.0 and report["combinations_checked"] == 7


def test_suppressed_cells_carry_no_information() -> None:
    frame = _schools()
    frame.loc[0, "sch"] = SUPPRESSED
    assert measure(frame, RULES).min_class[0] >= RULES.k


def test_protect_recodes_the_rare_school_and_passes_when_measured_again() -> None:
    protection = protect(_schools(), RULES)
    assert protection.passed, protection.findings()
    released = protection.frame
    assert released.loc[0, "sch"] in (OTHER, SUPPRESSED)
    assert any(m.startswith("global recoding") for m in protection.methods["sch"])
    assert protection.before.report()["sample_uniques"] >= 1
    assert protection.after.report()["records_below_k"] == 0
    # The released file is measured from scratch as the airlock will: it passes.
    again = measure(pd.read_csv(pd.io.common.StringIO(protection.csv()), dtype=str,
                                keep_default_na=False), RULES)
    assert again.passed


def test_continuous_column_is_top_coded_and_banded_or_noised() -> None:
    rng = np.random.default_rng(3)
    frame = _schools()
    frame["income"] = np.round(rng.lognormal(10, 1, len(frame)), 0).astype(int).astype(str)
    assert "income" in measure(frame, RULES).outliers
    banded = protect(frame, RULES)
    assert banded.passed, banded.findings()
    assert banded.frame["income"].nunique() <= 10
    assert any(m.startswith("top- and bottom-coding") for m in banded.methods["income"])
    # Noise keeps values, so the bands measured stay ten: with 30 schools that is too
    # fine (refused); without the school it passes.
    assert not protect(frame, RULES, continuous="noise", seed=1).passed
    frame = frame.drop(columns="sch")
    noised = protect(frame, RULES, continuous="noise", seed=1)
    assert noised.passed, noised.findings()
    values = pd.to_numeric(noised.frame["income"][noised.frame["income"] != SUPPRESSED])
    original = pd.to_numeric(frame["income"])
    assert (values.to_numpy() != original[values.index].to_numpy()).mean() > 0.9
    assert (values == values.max()).sum() >= RULES.k  # top-coded after the noise
    assert noised.methods["income"][0].startswith("noise")


def test_identifier_column_is_refused_not_published() -> None:
    frame = _schools()
    frame["pupil"] = [f"S{i:05d}" for i in range(len(frame))]
    protection = protect(frame, RULES)
    assert not protection.passed
    first = protection.findings()[0]
    assert (first["check"], first["where"]) == ("identifier_like", "pupil")


def test_date_column_recoded_to_year() -> None:
    frame = _schools()
    frame["dob"] = pd.date_range("2010-01-01", periods=len(frame), freq="6h").strftime(
        "%Y-%m-%d")
    protection = protect(frame, RULES)
    assert protection.passed, protection.findings()
    assert set(protection.frame["dob"]) - {SUPPRESSED, OTHER} <= {"2010", "2011", "2012"}
    assert protection.methods["dob"][0] == "global recoding: dates to year"


def test_combinations_are_bounded_and_said() -> None:
    frame = pd.DataFrame({f"c{i}": np.arange(40) % (i + 2) for i in range(12)}).astype(str)
    risk = measure(frame, RiskRules(k=2, max_combinations=100))
    assert risk.sizes_checked == 2  # 12 + 66 pairs fit, the 220 triples do not
    assert risk.combinations_checked == 78 and risk.combinations_skipped == 220


@pytest.mark.parametrize("rows", [100_000])
def test_hundred_thousand_rows_measured_in_seconds(rows: int) -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({
        "sch": rng.integers(0, 30, rows).astype(str), "grade": rng.integers(3, 13, rows).astype(
            str), "sex": rng.choice(["F", "M"], rows), "race": rng.choice(list("ABCDE"), rows),
        "score": np.round(rng.normal(250, 40, rows), 1).astype(str),
        "ell": rng.choice(["Y", "N"], rows), "frl": rng.choice(["Y", "N"], rows),
        "lang": rng.choice([f"l{i}" for i in range(40)], rows)})
    started = time.perf_counter()
    risk = measure(frame, RULES)
    assert time.perf_counter() - started < 10
    assert risk.combinations_checked == 8 + 28 + 56
