"""The three extracts as agencies hold them over time (``fedlink synth --longitudinal``).

Instead of one record per person per agency, each agency holds one row per person per
period under its own person id:

- **K-12**: one row per school year the person is at school inside the data years
  (``school_year`` as ``2015-16``), with that year's grade, school and test score, under a
  10-digit state student id (``state_student_id``);
- **higher education**: one row per term enrolled (``term`` as ``2021FA``/``2022SP``), with
  credits, the term's GPA and the degree awarded in the final term, under a student
  number (``student_id``, ``V`` + 8 digits);
- **workforce**: one row per quarter of one employment spell (``quarter`` as ``2021Q3``),
  with the industry and the quarter's wage, under a UI claimant id (``ui_claimant_id``,
  ``C`` + 9 digits).

Every row renders the person's identity as the agency records it *in that period*: the
surname changes at marriage from that period on, the address follows the person's moves
(:data:`MOVE_AGE`, :data:`SECOND_MOVE_GAP`), and the agency's own formats and per-record
errors (``fedlink/synth/profiles.py``) apply row by row. :data:`DUPLICATE_ID_SHARE` of an
agency's persons carry a second person id from some period on (a student re-registered
after a move, a transfer, a second claim). ``truth_id`` stays the person. Rates are in
``docs/synthetic-data.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from fedlink.synth.agencies import INDUSTRIES, INSTITUTIONS, TEST_SCORE_MISSING
from fedlink.synth.corrupt import join, zero_pad
from fedlink.synth.coverage import DATA_YEARS, Coverage
from fedlink.synth.identity import identity_columns
from fedlink.synth.population import Population
from fedlink.synth.profiles import HIGHER_ED, K12, WORKFORCE
from fedlink.synth.vocab import Vocabulary
from protocol.identity import IDENTITY_FIELDS

#: Share of an agency's persons who carry two person ids (each from some period on).
DUPLICATE_ID_SHARE = {K12.code: 0.02, HIGHER_ED.code: 0.015, WORKFORCE.code: 0.01}
#: Age of a person's first move (uniform, inclusive), then years until the second.
MOVE_AGE = (6, 30)
SECOND_MOVE_GAP = (2, 15)
#: Terms enrolled: completers take all of them; the others stop out earlier.
TERMS_FOUR_YEAR = ((2, 3, 4, 5, 6, 7, 8), (0.05, 0.05, 0.10, 0.05, 0.05, 0.05, 0.65))
TERMS_TWO_YEAR = ((1, 2, 3, 4), (0.15, 0.15, 0.10, 0.60))
#: Quarters in a worker's employment spell (uniform, inclusive).
SPELL_QUARTERS = (1, 24)

PERSON_ID = {K12.code: "state_student_id", HIGHER_ED.code: "student_id",
             WORKFORCE.code: "ui_claimant_id"}
PERIOD = {K12.code: "school_year", HIGHER_ED.code: "term", WORKFORCE.code: "quarter"}
_ATTRIBUTES = {K12.code: ("grade", "school", "test_score"),
               HIGHER_ED.code: ("institution", "credits", "term_gpa", "degree"),
               WORKFORCE.code: ("industry", "quarterly_wage")}
#: Every longitudinal file's columns, in order.
LONGITUDINAL_COLUMNS: dict[str, tuple[str, ...]] = {
    code: ("record_id", PERSON_ID[code], *IDENTITY_FIELDS, PERIOD[code], *attrs, "truth_id")
    for code, attrs in _ATTRIBUTES.items()
}


def move_years(pop: Population, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The calendar years of each person's first and second move (address slots 1, 2)."""
    first = pop.birth_year + rng.integers(MOVE_AGE[0], MOVE_AGE[1] + 1, pop.size)
    second = first + rng.integers(SECOND_MOVE_GAP[0], SECOND_MOVE_GAP[1] + 1, pop.size)
    return first, second


def _expand(persons: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One entry per (person, step) for ``counts`` steps each: (person, step 0..count-1)."""
    rows = np.repeat(persons, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return rows, np.arange(int(counts.sum())) - starts


def _person_ids(
    rows: np.ndarray, step: np.ndarray, persons: np.ndarray, counts: np.ndarray, share: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Each row's person id number: one per person, and a second from a random later
    period on for ``share`` of the persons (chosen among those with two or more rows)."""
    n = len(persons)
    first = np.empty(n, dtype=np.int64)
    # Increasing numbers with gaps, handed out in a random order: the id says nothing of
    # the truth id.
    first[rng.permutation(n)] = 1000 + np.cumsum(rng.integers(1, 40, n))
    eligible = np.flatnonzero(counts >= 2)
    k = min(round(share * n), len(eligible))
    twice = np.sort(rng.choice(eligible, size=k, replace=False)) if k else eligible[:0]
    second = np.full(n, -1, dtype=np.int64)
    top = int(first.max()) if n else 1000
    second[twice] = top + np.cumsum(rng.integers(1, 40, k))
    split = np.zeros(n, dtype=np.int64)
    split[twice] = rng.integers(1, counts[twice])  # the second id from this step on
    where = np.searchsorted(persons, rows)
    later = (second[where] >= 0) & (step >= split[where])
    return np.where(later, second[where], first[where])


def _slots(moves: tuple[np.ndarray, ...], rows: np.ndarray, year: np.ndarray) -> np.ndarray:
    """The address each row holds: 0 before the first move, 1 after it, 2 after the second."""
    slot: np.ndarray = (year >= moves[0][rows]).astype(np.int64) + (year >= moves[1][rows])
    return slot


def _order(*keys: np.ndarray) -> np.ndarray:
    """Export order: by period, then by person id (np.lexsort sorts by the last key)."""
    return np.lexsort(keys[::-1])


def _k12(pop: Population, cov: Coverage, vocab: Vocabulary, moves: tuple[np.ndarray, ...],
         rng: np.random.Generator) -> pd.DataFrame:
    first, last = DATA_YEARS
    persons = np.flatnonzero(cov.k12_year >= 0)
    k_year = cov.k12_year[persons] - cov.grade[persons]  # kindergarten's school year
    lo, hi = np.maximum(k_year, first), np.minimum(k_year + 12, last)
    counts = hi - lo + 1
    rows, step = _expand(persons, counts)
    where = np.searchsorted(persons, rows)
    year = lo[where] + step
    pid = _person_ids(rows, step, persons, counts, DUPLICATE_ID_SHARE[K12.code], rng)
    order = _order(year, pid)
    rows, year, pid = rows[order], year[order], pid[order]
    grade = year - k_year[np.searchsorted(persons, rows)]
    slot = _slots(moves, rows, year)
    city = pop.city[rows, slot]
    school = vocab.school_high[city].copy()
    elementary, middle = grade <= 5, (grade >= 6) & (grade <= 8)
    variant = pop.street[rows, slot] % 2
    school[elementary] = vocab.school_elementary[city[elementary], variant[elementary]]
    school[middle] = vocab.school_middle[city[middle]]
    n = len(rows)
    score = np.clip(np.round(rng.normal(440, 55, n)), 200, 600).astype(np.int64)
    tested = (grade >= 3) & (rng.random(n) >= TEST_SCORE_MISSING)
    test_score = pd.array(score, dtype="Int64")
    test_score[~tested] = pd.NA
    grade_text = zero_pad(grade, 2)
    grade_text[grade == 0] = "KG"
    identity = identity_columns(pop, vocab, rows, year, K12, rng, slot=slot)
    columns = {
        "record_id": join("K12-", zero_pad(np.arange(1, n + 1), max(7, len(str(n))))),
        "state_student_id": zero_pad(pid + 1_000_000_000, 10), **identity,
        "school_year": join(zero_pad(year - 1, 4), "-", zero_pad(year % 100, 2)),
        "grade": grade_text, "school": school, "test_score": test_score, "truth_id": rows,
    }
    return pd.DataFrame({c: columns[c] for c in LONGITUDINAL_COLUMNS[K12.code]})


def _highered(pop: Population, cov: Coverage, vocab: Vocabulary,
              moves: tuple[np.ndarray, ...], rng: np.random.Generator) -> pd.DataFrame:
    persons = np.flatnonzero(cov.he_year >= 0)
    m = len(persons)
    names = np.array([i[0] for i in INSTITUTIONS], dtype=object)
    weight = np.array([i[1] for i in INSTITUTIONS], dtype=float)
    two_year = np.array([i[2] for i in INSTITUTIONS])
    inst = rng.choice(len(names), size=m, p=weight / weight.sum())
    planned = np.where(two_year[inst], rng.choice(TERMS_TWO_YEAR[0], m, p=TERMS_TWO_YEAR[1]),
                       rng.choice(TERMS_FOUR_YEAR[0], m, p=TERMS_FOUR_YEAR[1]))
    completes = planned == np.where(two_year[inst], 4, 8)
    entry = cov.he_year[persons]
    # Fall of the entry year, then spring, fall…; terms after the data years are not held.
    last_term = 2 * (DATA_YEARS[1] - entry) + 1  # the spring of the last data year + 1
    counts = np.maximum(np.minimum(planned, last_term), 1)
    rows, step = _expand(persons, counts)
    where = np.searchsorted(persons, rows)
    year = entry[where] + (step + 1) // 2
    spring = step % 2 == 1
    pid = _person_ids(rows, step, persons, counts, DUPLICATE_ID_SHARE[HIGHER_ED.code], rng)
    order = _order(year * 2 + ~spring, pid)  # spring (earlier in the year) first
    rows, step, year, spring, pid, where = (a[order] for a in (rows, step, year, spring, pid,
                                                               where))
    n = len(rows)
    final = (step == counts[where] - 1) & completes[where] & (step == planned[where] - 1)
    four = rng.choice(np.array(["BA", "BS"], dtype=object), size=n)
    two = rng.choice(np.array(["AA", "AS", "AAS", "CERT"], dtype=object), size=n)
    degree = np.full(n, None, dtype=object)
    degree[final] = np.where(two_year[inst[where]], two, four)[final]
    slot = _slots(moves, rows, year)
    identity = identity_columns(pop, vocab, rows, year, HIGHER_ED, rng, slot=slot)
    columns = {
        "record_id": join("HE", zero_pad(np.arange(1, n + 1), max(8, len(str(n))))),
        "student_id": join("V", zero_pad(pid + 10_000_000, 8)), **identity,
        "term": join(zero_pad(year, 4), np.where(spring, "SP", "FA").astype(object)),
        "institution": names[inst[where]],
        "credits": rng.choice(np.array([3, 6, 9, 12, 15, 18]), size=n,
                              p=[0.05, 0.1, 0.15, 0.35, 0.3, 0.05]),
        "term_gpa": np.round(np.clip(rng.normal(3.0, 0.6, n), 0.0, 4.0), 2),
        "degree": degree, "truth_id": rows,
    }
    return pd.DataFrame({c: columns[c] for c in LONGITUDINAL_COLUMNS[HIGHER_ED.code]})


def _workforce(pop: Population, cov: Coverage, vocab: Vocabulary,
               moves: tuple[np.ndarray, ...], rng: np.random.Generator) -> pd.DataFrame:
    persons = np.flatnonzero(cov.wf_year >= 0)
    m = len(persons)
    start = cov.wf_year[persons] * 4 + cov.wf_quarter[persons] - 1  # quarter ordinal
    end = DATA_YEARS[1] * 4 + 3
    counts = np.minimum(rng.integers(SPELL_QUARTERS[0], SPELL_QUARTERS[1] + 1, m),
                        end - start + 1)
    codes = np.array([i[0] for i in INDUSTRIES], dtype=object)
    share = np.array([i[1] for i in INDUSTRIES])
    mean = np.array([i[2] for i in INDUSTRIES])
    industry = rng.choice(len(codes), size=m, p=share / share.sum())
    sigma = 0.6
    base = mean[industry] * rng.lognormal(-(sigma**2) / 2, sigma, m)  # the person's level
    rows, step = _expand(persons, counts)
    where = np.searchsorted(persons, rows)
    ordinal = start[where] + step
    pid = _person_ids(rows, step, persons, counts, DUPLICATE_ID_SHARE[WORKFORCE.code], rng)
    order = _order(ordinal, pid)
    rows, step, ordinal, pid, where = (a[order] for a in (rows, step, ordinal, pid, where))
    n = len(rows)
    year, quarter = ordinal // 4, ordinal % 4 + 1
    age = year - pop.birth_year[rows]
    age_factor = np.select([age < 22, age < 30], [0.45, 0.8], 1.0)
    wage = base[where] * age_factor * rng.lognormal(-(0.15**2) / 2, 0.15, n)
    # The first and last quarter of a spell are often partial.
    edge = (step == 0) | (step == counts[where] - 1)
    wage *= np.where(edge & (rng.random(n) < 0.5), rng.uniform(0.1, 0.9, n), 1.0)
    slot = _slots(moves, rows, year)
    identity = identity_columns(pop, vocab, rows, year, WORKFORCE, rng, slot=slot)
    columns = {
        "record_id": join("UI", zero_pad(year, 4), "Q", zero_pad(quarter, 1), "-",
                          zero_pad(np.arange(1, n + 1), max(9, len(str(n))))),
        "ui_claimant_id": join("C", zero_pad(pid + 100_000_000, 9)), **identity,
        "quarter": join(zero_pad(year, 4), "Q", zero_pad(quarter, 1)),
        "industry": codes[industry[where]],
        "quarterly_wage": np.maximum(np.round(wage), 1).astype(np.int64), "truth_id": rows,
    }
    return pd.DataFrame({c: columns[c] for c in LONGITUDINAL_COLUMNS[WORKFORCE.code]})


def longitudinal_frames(
    pop: Population, cov: Coverage, vocab: Vocabulary, moves_rng: np.random.Generator,
    agency_rngs: list[np.random.Generator], report: Callable[[str], None],
) -> dict[str, pd.DataFrame]:
    """``{"k12": …, "highered": …, "workforce": …}``, one row per person per period;
    ``report`` is called with each key as its frame starts."""
    moves = move_years(pop, moves_rng)
    builders = (_k12, _highered, _workforce)
    frames: dict[str, pd.DataFrame] = {}
    for key, build, rng in zip(("k12", "highered", "workforce"), builders, agency_rngs,
                               strict=True):
        report(key)
        frames[key] = build(pop, cov, vocab, moves, rng)
    return frames
