"""Who each agency sees, and in which year.

Data years are :data:`DATA_YEARS` (school years are named by the calendar year they end
in: 2016 is 2015–16). Each agency holds one record per person it covers, from one year:

- **K-12**: people of school age (kindergarten at 5 on 30 September, twelve grades after)
  in some data year, who schooled in-state (:data:`K12_IN_STATE`); the year is uniform over
  their school years inside the data window. Twins share both draws.
- **Higher education**: :data:`HE_FROM_K12` of in-state K-12 graduates, entering the year
  they graduate (80%) or one or two years later; :data:`HE_FROM_OUT_OF_STATE` of people
  of the same age who did not school here (out-of-state schooling, or before the data
  years); :data:`HE_ADULT_LEARNERS` of people born 1950–1985, entering in any data year.
- **Workforce** (UI wage records): :data:`WF_ADULTS` of people 16–70 in some data year
  (:data:`WF_YOUNG` of those born after 2002), one wage record from a year uniform over
  their working years in the window.

So every pair of files overlaps partially, and each holds people the others do not:
young children (K-12 only), out-of-state students who never worked here (HE only),
older workers (workforce only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fedlink.synth.population import Population

DATA_YEARS = (2010, 2024)
K12_IN_STATE = 0.85
HE_FROM_K12 = 0.62
HE_FROM_OUT_OF_STATE = 0.30
HE_ADULT_LEARNERS = 0.04
WF_ADULTS = 0.80
WF_YOUNG = 0.55


@dataclass
class Coverage:
    """Per person: whether each agency has a record and the record's year (``-1`` when
    not covered). ``grade`` is 0 (kindergarten) to 12 for K-12 records."""

    k12_year: np.ndarray
    grade: np.ndarray
    he_year: np.ndarray
    wf_year: np.ndarray
    wf_quarter: np.ndarray


def _uniform_year(u: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    span = np.maximum(hi - lo + 1, 1)
    year: np.ndarray = lo + np.minimum((u * span).astype(np.int64), span - 1)
    return year


def assign_coverage(pop: Population, rng: np.random.Generator) -> Coverage:
    """Decide every agency's coverage of ``pop`` (see the module docstring)."""
    n = pop.size
    first, last = DATA_YEARS
    byear = pop.birth_year
    late = (pop.birth_month >= 10).astype(np.int64)  # born after the 30 Sept cut-off
    k_year = byear + late + 6  # the school year (by its end) of kindergarten
    grad_year = k_year + 12

    lo, hi = np.maximum(k_year, first), np.minimum(grad_year, last)
    in_state = pop.family_u[:, 0] < K12_IN_STATE
    in_k12 = in_state & (lo <= hi)
    k12_year = np.where(in_k12, _uniform_year(pop.family_u[:, 1], lo, hi), -1)
    grade = np.where(in_k12, k12_year - k_year, -1)

    delay = rng.choice(3, size=n, p=[0.8, 0.15, 0.05])
    entry = grad_year + delay
    u = rng.random(n)
    from_k12 = in_k12 & (u < HE_FROM_K12)
    from_elsewhere = ~in_k12 & (u < HE_FROM_OUT_OF_STATE)
    young = (entry >= first) & (entry <= last) & (from_k12 | from_elsewhere)
    adult = ~young & (byear <= 1985) & (rng.random(n) < HE_ADULT_LEARNERS)
    he_year = np.full(n, -1, dtype=np.int64)
    he_year[young] = entry[young]
    he_year[adult] = rng.integers(first, last + 1, int(adult.sum()))

    w_lo, w_hi = np.maximum(byear + 16, first), np.minimum(byear + 70, last)
    rate = np.where(byear > 2002, WF_YOUNG, WF_ADULTS)
    in_wf = (w_lo <= w_hi) & (rng.random(n) < rate)
    wf_year = np.where(in_wf, _uniform_year(rng.random(n), w_lo, w_hi), -1)
    return Coverage(
        k12_year=k12_year,
        grade=grade,
        he_year=he_year,
        wf_year=wf_year,
        wf_quarter=rng.integers(1, 5, n),
    )
