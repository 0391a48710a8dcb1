"""The three agency extracts: identity columns, the agency's own variables, ground truth.

Each frame has ``record_id`` (the agency's own id style), the canonical identity fields,
the agency's attribute variables and ``truth_id`` (the person, the same in every file).
Rows are in a random order with ids increasing down the file, as an export sorted by the
agency's key would be; the order carries no information about ``truth_id``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fedlink.synth.corrupt import join, zero_pad
from fedlink.synth.coverage import Coverage
from fedlink.synth.identity import identity_columns
from fedlink.synth.population import Population
from fedlink.synth.profiles import HIGHER_ED, K12, WORKFORCE, AgencyProfile
from fedlink.synth.vocab import Vocabulary
from protocol.identity import IDENTITY_FIELDS

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    K12.code: ("school_year", "grade", "school", "test_score", "sped_flag"),
    HIGHER_ED.code: ("institution", "enroll_year", "degree", "gpa"),
    WORKFORCE.code: ("year", "quarter", "industry", "quarterly_wage"),
}

#: Every file's columns, in order.
COLUMNS: dict[str, tuple[str, ...]] = {
    code: ("record_id", *IDENTITY_FIELDS, *attrs, "truth_id") for code, attrs in ATTRIBUTES.items()
}

SPED_SHARE = 0.13
TEST_SCORE_MISSING = 0.04

#: Virginia institutions and a weight (roughly fall enrollment); True = two-year college.
INSTITUTIONS: tuple[tuple[str, float, bool], ...] = (
    ("George Mason University", 39, False), ("Virginia Tech", 38, False),
    ("Virginia Commonwealth University", 29, False), ("James Madison University", 22, False),
    ("University of Virginia", 26, False), ("Old Dominion University", 24, False),
    ("Liberty University", 15, False), ("William & Mary", 9, False),
    ("Radford University", 8, False), ("Virginia State University", 4, False),
    ("Norfolk State University", 5, False), ("Christopher Newport University", 5, False),
    ("University of Mary Washington", 4, False), ("Longwood University", 4, False),
    ("Northern Virginia Community College", 50, True),
    ("Tidewater Community College", 21, True),
    ("J. Sargeant Reynolds Community College", 9, True),
    ("Germanna Community College", 8, True), ("Virginia Western Community College", 7, True),
    ("Piedmont Virginia Community College", 5, True),
)  # fmt: skip

#: NAICS 2-digit sectors: (code, share of employment %, mean quarterly wage in $).
INDUSTRIES: tuple[tuple[str, float, float], ...] = (
    ("11", 0.4, 9000), ("21", 0.2, 16000), ("22", 0.3, 25000), ("23", 5.3, 15000),
    ("31", 1.3, 11000), ("32", 2.2, 17000), ("33", 2.7, 18000), ("42", 2.9, 20000),
    ("44", 7.0, 8000), ("45", 3.0, 8000), ("48", 2.8, 13000), ("49", 1.0, 11000),
    ("51", 1.8, 30000), ("52", 3.5, 25000), ("53", 1.4, 16000), ("54", 11.0, 33000),
    ("55", 2.0, 35000), ("56", 6.5, 12000), ("61", 8.0, 13000), ("62", 12.5, 14000),
    ("71", 1.6, 7000), ("72", 9.0, 5500), ("81", 3.2, 10000), ("92", 10.4, 19000),
)  # fmt: skip


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Increasing ids with random gaps (records deleted or belonging to other extracts)."""
    return 1000 + np.cumsum(rng.integers(1, 6, n))


def _width(ids: np.ndarray, minimum: int) -> int:
    return max(minimum, len(str(int(ids.max())))) if len(ids) else minimum


def _k12(
    pop: Population, cov: Coverage, vocab: Vocabulary, rows: np.ndarray, rng: np.random.Generator
) -> dict[str, object]:
    n = len(rows)
    ids = _ids(rng, n)
    grade = cov.grade[rows]
    grade_text = zero_pad(grade, 2)
    grade_text[grade == 0] = "KG"
    city = pop.city[rows, 0]
    school = vocab.school_high[city].copy()
    elementary = grade <= 5
    variant = pop.street[rows, 0] % 2  # the attendance zone: one of the town's two schools
    school[elementary] = vocab.school_elementary[city[elementary], variant[elementary]]
    middle = (grade >= 6) & (grade <= 8)
    school[middle] = vocab.school_middle[city[middle]]
    # State tests (SOL scaled 200-600, 400 passes) start in grade 3.
    score = np.clip(np.round(rng.normal(440, 55, n)), 200, 600).astype(np.int64)
    tested = (grade >= 3) & (rng.random(n) >= TEST_SCORE_MISSING)
    test_score = pd.array(score, dtype="Int64")
    test_score[~tested] = pd.NA
    return {
        "record_id": join("K12-", zero_pad(ids, _width(ids, 7))),
        "school_year": cov.k12_year[rows],
        "grade": grade_text,
        "school": school,
        "test_score": test_score,
        "sped_flag": np.where(rng.random(n) < SPED_SHARE, "Y", "N").astype(object),
    }


def _highered(
    pop: Population, cov: Coverage, rows: np.ndarray, rng: np.random.Generator
) -> dict[str, object]:
    n = len(rows)
    ids = _ids(rng, n)
    names = np.array([i[0] for i in INSTITUTIONS], dtype=object)
    weight = np.array([i[1] for i in INSTITUTIONS], dtype=float)
    two_year = np.array([i[2] for i in INSTITUTIONS])
    inst = rng.choice(len(names), size=n, p=weight / weight.sum())
    four = rng.choice(np.array(["BA", "BS", None], dtype=object), size=n, p=[0.3, 0.3, 0.4])
    two = rng.choice(
        np.array(["AA", "AS", "AAS", "CERT", None], dtype=object),
        size=n, p=[0.15, 0.15, 0.1, 0.1, 0.5],
    )  # fmt: skip
    gpa = np.round(np.clip(rng.normal(3.0, 0.55, n), 0.0, 4.0), 2)
    return {
        "record_id": join("HE", zero_pad(ids, _width(ids, 8))),
        "institution": names[inst],
        "enroll_year": cov.he_year[rows],
        "degree": np.where(two_year[inst], two, four),
        "gpa": gpa,
    }


def _workforce(
    pop: Population, cov: Coverage, rows: np.ndarray, rng: np.random.Generator
) -> dict[str, object]:
    n = len(rows)
    ids = _ids(rng, n)
    year, quarter = cov.wf_year[rows], cov.wf_quarter[rows]
    codes = np.array([i[0] for i in INDUSTRIES], dtype=object)
    share = np.array([i[1] for i in INDUSTRIES])
    mean = np.array([i[2] for i in INDUSTRIES])
    industry = rng.choice(len(codes), size=n, p=share / share.sum())
    age = year - pop.birth_year[rows]
    age_factor = np.select([age < 22, age < 30], [0.45, 0.8], 1.0)
    # Lognormal with the sector's mean; one record in ten covers a partial quarter.
    sigma = 0.6
    wage = mean[industry] * age_factor * rng.lognormal(-(sigma**2) / 2, sigma, n)
    wage *= np.where(rng.random(n) < 0.1, rng.uniform(0.1, 0.9, n), 1.0)
    return {
        "record_id": join(
            "UI", zero_pad(year, 4), "Q", zero_pad(quarter, 1), "-", zero_pad(ids, _width(ids, 9))
        ),
        "year": year,
        "quarter": quarter,
        "industry": codes[industry],
        "quarterly_wage": np.maximum(np.round(wage), 1).astype(np.int64),
    }


def agency_frame(
    profile: AgencyProfile,
    pop: Population,
    cov: Coverage,
    vocab: Vocabulary,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The extract of the agency ``profile`` describes: one row per person it covers."""
    year_of = {K12.code: cov.k12_year, HIGHER_ED.code: cov.he_year, WORKFORCE.code: cov.wf_year}
    years = year_of[profile.code]
    rows = rng.permutation(np.flatnonzero(years >= 0))
    identity = identity_columns(pop, vocab, rows, years[rows], profile, rng)
    if profile.code == K12.code:
        attributes = _k12(pop, cov, vocab, rows, rng)
    elif profile.code == HIGHER_ED.code:
        attributes = _highered(pop, cov, rows, rng)
    else:
        attributes = _workforce(pop, cov, rows, rng)
    columns = {**identity, **attributes, "truth_id": rows.astype(np.int64)}
    return pd.DataFrame({name: columns[name] for name in COLUMNS[profile.code]})
