"""Disclosure risk of a record-level file, measured on the data (docs/public-use-files.md).

A public-use file is public: anyone may hold other data on the people in it. So no column is
trusted by its name or by what the catalog declares — *every* column is a key variable, and
the risk is measured on the values:

* **Classes.** For every combination of up to ``max_size`` columns (all single columns, all
  pairs, all triples …, bounded by ``max_combinations``: when the next size would exceed the
  budget, the sizes checked stop below it and the report says so), each record's class is the
  records with its values in those columns. A record in a class smaller than ``k`` on any
  checked combination is *at risk*; in a class of one it is a *sample unique*.
* **Minimal sample uniques (MSUs)**, in the manner of SUDA (Elliot et al.): a combination on
  which a record is unique while it is unique on none of its subsets. Uniqueness only grows
  with more columns, so checking the immediate subsets is enough. A record with an MSU is a
  *special unique*; its SUDA-style score adds, per MSU of size *s*, the weight
  ∏_{i=s}^{M-1}(A − i) (A columns, M the largest size checked): the fewer columns it takes
  to single a record out, the riskier it is. Each column's share of the MSUs is reported.
* **Re-identification risk per record**: 1 / (the size of its smallest class over the checked
  combinations) — the chance that an intruder who knows those values picks the right record.
  The report gives the largest, the mean and the expected number of re-identifications.

How values are read: a cell ``*`` is a locally suppressed value and carries no information
(the record is not counted in any class of a combination including that column, neither as a
member nor as a match); an empty cell is a value of its own (a missing value can be telling).
A *continuous* column (numbers with more than ``max_categories`` distinct values) is measured
by its quantile band (``bins`` bands): an intruder rarely knows an exact score or income, and
exact values are what top-coding and noise protect (:mod:`hub.disclosure.public_use_methods`).
Its extremes are checked on their own: a largest or smallest value held by fewer than ``k``
records is an outlier anyone can spot (``not_top_coded``).

Everything is vectorised: each column is factorised once into integer codes and a
combination's key is an integer built from them, so a 100 000-row file with ten columns
(175 combinations up to triples) is measured in about a second. Findings name columns and
counts, never a value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Final

import numpy as np
import pandas as pd

SUPPRESSED: Final = "*"
#: Above this product of cardinalities a combined key is densified before growing further.
_DENSE_LIMIT: Final = 1 << 40
#: Up to this many possible keys, classes are counted with a plain array (no hashing).
_DIRECT_LIMIT: Final = 1 << 20


@dataclass(frozen=True)
class RiskRules:
    """What is measured and what passes."""

    k: int = 5
    max_size: int = 3
    max_combinations: int = 2000
    max_categories: int = 50
    bins: int = 10

    def __post_init__(self) -> None:
        if self.k < 2 or self.max_size < 1 or self.max_combinations < 1 or self.bins < 2:
            raise ValueError("k ≥ 2, max_size ≥ 1, max_combinations ≥ 1 and bins ≥ 2")


def numeric(values: pd.Series) -> pd.Series | None:
    """The column as floats when every non-empty, unsuppressed cell is a number, else None."""
    codes, uniques = pd.factorize(values)
    return _numeric(codes, np.asarray(uniques, dtype=object), values.index)


def _numeric(codes: np.ndarray, uniques: np.ndarray, index: pd.Index) -> pd.Series | None:
    # Parsed once per distinct value: a column has far fewer of those than rows.
    blank = np.isin(uniques, ["", SUPPRESSED])
    if blank.all():
        return None
    parsed = pd.to_numeric(pd.Series(uniques), errors="coerce").to_numpy(dtype=float)
    if np.isnan(parsed[~blank]).any():
        return None
    parsed[blank] = np.nan
    return pd.Series(parsed[codes], index=index)


def is_continuous(values: pd.Series, rules: RiskRules) -> bool:
    return _continuous(numeric(values), rules) is not None


def _continuous(parsed: pd.Series | None, rules: RiskRules) -> pd.Series | None:
    if parsed is None or int(parsed.nunique()) <= rules.max_categories:
        return None
    return parsed


def _column(values: pd.Series, rules: RiskRules) -> tuple[np.ndarray, bool]:
    """Integer codes of one column for the measure (-1 for a suppressed cell; a continuous
    column by quantile band) and whether its extremes are outliers."""
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    where = np.flatnonzero(uniques == SUPPRESSED)
    suppressed = codes == where[0] if len(where) else np.zeros(len(codes), dtype=bool)
    parsed = _continuous(_numeric(codes, uniques, values.index), rules)
    outlier = False
    if parsed is not None:
        bands = pd.qcut(parsed, q=rules.bins, labels=False, duplicates="drop")
        # Empty cells stay a class of their own (band -2).
        codes = pd.factorize(bands.fillna(-2).to_numpy(dtype=np.int64))[0]
        present = parsed.dropna()
        outlier = bool((present == present.max()).sum() < rules.k
                       or (present == present.min()).sum() < rules.k)
    codes = codes.astype(np.int64)
    codes[suppressed] = -1
    return codes, outlier


@dataclass
class Risk:
    """The measure of one file (see the module docstring)."""

    rows: int
    columns: list[str]
    k: int
    sizes_checked: int
    combinations_checked: int
    combinations_skipped: int
    #: Per record: the smallest class size over the checked combinations (rows × 1).
    min_class: np.ndarray
    #: Per record and column: checked combinations with that column where the record's
    #: class is below k (rows × columns), used to choose what to suppress.
    contribution: np.ndarray
    msus_by_size: dict[int, int]
    suda_score: np.ndarray
    column_msus: dict[str, int]
    combinations_at_risk: list[tuple[tuple[str, ...], int]]
    outliers: list[str] = field(default_factory=list)

    @property
    def at_risk(self) -> np.ndarray:
        return self.min_class < self.k

    @property
    def special_uniques(self) -> int:
        return int((self.suda_score > 0).sum())

    @property
    def passed(self) -> bool:
        return not self.at_risk.any() and not self.outliers

    def findings(self) -> list[dict[str, str]]:
        """Findings for the airlock's format (check, where, detail): columns and counts."""
        found = []
        uniques = int((self.min_class == 1).sum())
        if uniques:
            found.append({"check": "sample_unique", "where": "every column", "detail": (
                f"{uniques} record(s) are unique on some combination of up to "
                f"{self.sizes_checked} columns ({self.special_uniques} special uniques)")})
        below = int(self.at_risk.sum())
        if below:
            worst = ", ".join("(" + ", ".join(c) + f"): {n}"
                              for c, n in self.combinations_at_risk[:5])
            found.append({"check": "small_class", "where": "every column", "detail": (
                f"{below} record(s) are in a class of fewer than {self.k} on some "
                f"combination of columns; most affected: {worst}")})
        for name in self.outliers:
            found.append({"check": "not_top_coded", "where": name, "detail": (
                f"its largest or smallest value is held by fewer than {self.k} records")})
        return found

    def report(self) -> dict[str, Any]:
        risk = 1.0 / np.maximum(self.min_class, 1)
        measured = self.min_class < np.iinfo(np.int64).max
        risk = np.where(measured, risk, 0.0)
        return {
            "rows": self.rows, "columns": len(self.columns), "k": self.k,
            "combination_sizes_checked": self.sizes_checked,
            "combinations_checked": self.combinations_checked,
            "combinations_skipped": self.combinations_skipped,
            "sample_uniques": int((self.min_class == 1).sum()),
            "special_uniques": self.special_uniques,
            "records_below_k": int(self.at_risk.sum()),
            "msus_by_size": {str(s): n for s, n in sorted(self.msus_by_size.items())},
            "column_msus": dict(self.column_msus),
            "max_suda_score": float(self.suda_score.max()) if self.rows else 0.0,
            "max_risk": float(risk.max()) if self.rows else 0.0,
            "mean_risk": float(risk.mean()) if self.rows else 0.0,
            "expected_reidentifications": float(risk.sum()),
            "outliers": list(self.outliers),
        }


def _sizes(columns: int, rules: RiskRules) -> tuple[int, int]:
    """(largest size checked, combinations skipped): whole sizes within the budget."""
    total, size = 0, 0
    for s in range(1, min(rules.max_size, columns) + 1):
        count = math.comb(columns, s)
        if total + count > rules.max_combinations and size:
            skipped = sum(math.comb(columns, t)
                          for t in range(s, min(rules.max_size, columns) + 1))
            return size, skipped
        total, size = total + count, s
    return size, 0


def _class_sizes(codes: list[np.ndarray], cards: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(size of each row's class, row counted) for one combination; rows with a suppressed
    cell in it are not counted (size 0)."""
    valid = np.ones(len(codes[0]), dtype=bool)
    for c in codes:
        valid &= c >= 0
    key = codes[0].copy()
    span = cards[0]
    for c, card in zip(codes[1:], cards[1:], strict=True):
        if span * card > _DENSE_LIMIT:
            key, uniques = pd.factorize(key)
            span = len(uniques)
        key = key * card + c
        span *= card
    sizes = np.zeros(len(key), dtype=np.int64)
    sub = key[valid]
    if span <= _DIRECT_LIMIT:  # small key space: count by position, no hashing
        sizes[valid] = np.bincount(sub, minlength=span)[sub]
    else:
        ids, uniques = pd.factorize(sub)
        sizes[valid] = np.bincount(ids, minlength=len(uniques))[ids]
    return sizes, valid


def measure(frame: pd.DataFrame, rules: RiskRules) -> Risk:
    """Measure ``frame`` (all columns as text, one row per record)."""
    names = [str(c) for c in frame.columns]
    n, p = len(frame), len(names)
    measured = [_column(frame[c].astype(str), rules) for c in frame.columns]
    codes = [c for c, _ in measured]
    outliers = [name for name, (_, out) in zip(names, measured, strict=True) if out]
    cards = [int(c.max()) + 2 if len(c) else 1 for c in codes]
    largest, skipped = _sizes(p, rules)
    never = np.iinfo(np.int64).max
    min_class = np.full(n, never, dtype=np.int64)
    contribution = np.zeros((n, p), dtype=np.int32)
    score = np.zeros(n, dtype=np.float64)
    column_msus = dict.fromkeys(names, 0)
    msus: dict[int, int] = {}
    at_risk_combos: list[tuple[tuple[str, ...], int]] = []
    unique_prev: dict[tuple[int, ...], np.ndarray] = {}
    checked = 0
    for size in range(1, largest + 1):
        weight = float(math.prod(p - i for i in range(size, largest)))
        unique_now: dict[tuple[int, ...], np.ndarray] = {}
        for combo in combinations(range(p), size):
            checked += 1
            sizes, valid = _class_sizes([codes[i] for i in combo], [cards[i] for i in combo])
            np.minimum(min_class, np.where(valid, sizes, never), out=min_class)
            small = valid & (sizes < rules.k)
            if small.any():
                contribution[:, list(combo)] += small[:, None].astype(np.int32)
                at_risk_combos.append((tuple(names[i] for i in combo), int(small.sum())))
            unique = valid & (sizes == 1)
            if size < largest:
                unique_now[combo] = unique
            if not unique.any():
                continue
            minimal = unique.copy()
            if size > 1:
                for sub in combinations(combo, size - 1):
                    minimal &= ~unique_prev[sub]
            count = int(minimal.sum())
            if count:
                msus[size] = msus.get(size, 0) + count
                score += minimal * weight
                for i in combo:
                    column_msus[names[i]] += count
        unique_prev = unique_now
    at_risk_combos.sort(key=lambda item: (-item[1], item[0]))
    return Risk(rows=n, columns=names, k=rules.k, sizes_checked=largest,
                combinations_checked=checked, combinations_skipped=skipped,
                min_class=min_class, contribution=contribution, msus_by_size=msus,
                suda_score=score, column_msus=column_msus,
                combinations_at_risk=at_risk_combos, outliers=outliers)
