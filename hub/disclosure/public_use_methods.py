"""Making a record-level file safe for public use with the standard methods, measured on the
data by :mod:`hub.disclosure.public_use` before and after (docs/public-use-files.md).

Per column, by what its values are (never by its name):

* **dates** (every value ``YYYY-MM-DD…``): global recoding to the year;
* **continuous** (numbers with more than ``max_categories`` distinct values): bottom- and
  top-coding (values beyond the ``max(k, 1 %)``-th smallest/largest are set to it), then
  either global recoding into quantile bands (``continuous="recode"``, labels ``a–b``) or
  Gaussian noise with a standard deviation of ``noise`` × the column's, rounded as the column
  is and coded at the extremes again (``continuous="noise"``);
* **categorical** (anything else): global recoding of rare categories — fewer than ``k``
  records — into ``Other`` (with the next smallest categories while ``Other`` itself would be
  smaller than ``k``). A column where most records fall in rare categories is an identifier
  (a name, an id, a free text) and is refused (``identifier_like``): drop it.

Then, while more than ``max(k, 1 %)`` records are at risk, the column that takes part in most
of the at-risk records' small classes is coarsened one more step (categorical: the rare
threshold rises — 2, 4, 8, 16 × k, then 0.5, 1, 2, 5 % of the records, never so far that
more than half the records would be ``Other``; continuous bands: 10 → 5 → 3 → 2). What is
left is locally suppressed: in each at-risk record, the cell of the column in most of its
small classes is written ``*``, measured again, until no record is at risk. More than
``max_suppression`` of the cells suppressed refuses the file (``too_much_suppression``).
The file passes when the measure of the released file passes; the result says what was
done to each column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from hub.disclosure.public_use import SUPPRESSED, Risk, RiskRules, is_continuous, measure, numeric

ContinuousMethod = Literal["recode", "noise"]
OTHER: Final = "Other"
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BANDS: Final = (10, 5, 3, 2)
#: Rare-category thresholds: multiples of k, then shares of the records.
_RARE_MULTIPLES: Final = (1, 2, 4, 8, 16)
_RARE_SHARES: Final = (0.005, 0.01, 0.02, 0.05)
#: Global recoding stops before more than this share of the records would be Other.
_MAX_OTHER: Final = 0.5


@dataclass
class Protection:
    """The released file, what was done, and the measure before and after."""

    frame: pd.DataFrame
    before: Risk
    after: Risk
    methods: dict[str, list[str]]
    suppressed_cells: int
    refusals: list[dict[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.refusals and self.after.passed

    def findings(self) -> list[dict[str, str]]:
        return self.refusals + ([] if self.after.passed else self.after.findings())

    def csv(self) -> str:
        return str(self.frame.to_csv(index=False, lineterminator="\n"))

    def report(self) -> dict[str, Any]:
        return {"passed": self.passed, "before": self.before.report(),
                "after": self.after.report(), "methods": self.methods,
                "suppressed_cells": self.suppressed_cells, "findings": self.findings()}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _extreme_count(present: int, k: int) -> int:
    return max(k, math.ceil(0.01 * present))


def _code_extremes(values: pd.Series, k: int) -> tuple[pd.Series, int]:
    """Bottom- and top-code at the ``max(k, 1 %)``-th smallest and largest value."""
    present = np.sort(values.dropna().to_numpy())
    count = _extreme_count(len(present), k)
    if len(present) < 2 * count:
        return values, 0
    low, high = present[count - 1], present[-count]
    changed = int(((values < low) | (values > high)).sum())
    return values.clip(lower=low, upper=high), changed


def _bands(values: pd.Series, bands: int, k: int) -> tuple[pd.Series, list[str]]:
    coded, changed = _code_extremes(values, k)
    labels = pd.qcut(coded, q=bands, labels=False, duplicates="drop")
    groups = coded.groupby(labels)
    names = {band: f"{_fmt(lo)}–{_fmt(hi)}" if lo != hi else _fmt(lo)
             for band, lo, hi in zip(groups.min().index, groups.min(), groups.max(),
                                     strict=True)}
    out = labels.map(names).fillna("").astype(str)
    done = [f"top- and bottom-coding: {changed} value(s)"] if changed else []
    used = int(labels.nunique())
    return out, [*done, f"global recoding: {used} quantile bands"]


def _decimals(values: pd.Series) -> int:
    text = values[values.str.contains(r"\.", regex=True)]
    return int(text.str.split(".").str[-1].str.len().max()) if len(text) else 0


def _noise(raw: pd.Series, values: pd.Series, share: float, k: int,
           rng: np.random.Generator) -> tuple[pd.Series, list[str]]:
    sd = float(values.std()) * share
    noisy = values + rng.normal(0.0, sd, len(values))
    noisy = noisy.round(_decimals(raw))
    coded, changed = _code_extremes(noisy, k)
    places = _decimals(raw)
    text = coded.map(lambda v: "" if pd.isna(v) else (
        f"{v:.{places}f}" if places else str(int(v))))
    return text.astype(str), [f"noise: Gaussian, sd {share:.0%} of the column's",
                              f"top- and bottom-coding: {changed} value(s) after noise"]


def _rare_to_other(values: pd.Series, threshold: int, k: int) -> tuple[pd.Series, int]:
    counts = values[values != ""].value_counts()
    rare = list(counts[counts < threshold].index)
    if not rare:
        return values, 0
    merged = int(counts[rare].sum())
    for name in counts.sort_values().index:
        if merged >= k or name in rare:
            continue
        rare.append(name)
        merged += int(counts[name])
    return values.where(~values.isin(rare), OTHER), len(rare)


@dataclass
class _Column:
    kind: Literal["categorical", "continuous"]
    raw: pd.Series
    values: pd.Series
    level: int = 0
    notes: list[str] = field(default_factory=list)
    counts: pd.Series | None = None
    #: The released values and methods of each level tried.
    done: dict[int, tuple[pd.Series, list[str]]] = field(default_factory=dict)

    def coarsenable(self, continuous: ContinuousMethod, thresholds: list[int]) -> bool:
        if self.kind == "categorical":
            if self.level >= len(thresholds) - 1:
                return False
            # Never so far that most records become Other: that is dropping the column.
            if self.counts is None:
                self.counts = self.values[self.values != ""].value_counts()
            counts = self.counts
            merged = int(counts[counts < thresholds[self.level + 1]].sum())
            return merged <= _MAX_OTHER * len(self.values)
        return continuous == "recode" and self.level < len(_BANDS) - 1


def _prepare(frame: pd.DataFrame, rules: RiskRules) -> tuple[dict[str, _Column],
                                                              list[dict[str, str]]]:
    columns, refusals = {}, []
    for name in frame.columns:
        raw = frame[name].astype(str)
        notes: list[str] = []
        present = raw[raw != ""]
        if len(present) and present.str.match(_DATE).all():
            raw = raw.str.slice(0, 4)
            notes.append("global recoding: dates to year")
        if is_continuous(raw, rules):
            parsed = numeric(raw)
            assert parsed is not None
            columns[str(name)] = _Column("continuous", raw, parsed, notes=notes)
            continue
        counts = raw[raw != ""].value_counts()
        if len(raw) and counts[counts < rules.k].sum() > 0.5 * max(len(present), 1):
            refusals.append({"check": "identifier_like", "where": str(name), "detail": (
                f"most records have a value shared by fewer than {rules.k} records: an "
                "identifier or free text cannot be published; drop the column")})
        columns[str(name)] = _Column("categorical", raw, raw, notes=notes)
    return columns, refusals


def _apply(columns: dict[str, _Column], rules: RiskRules, continuous: ContinuousMethod,
           noise: float, seed: int | None) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    thresholds = _thresholds(len(next(iter(columns.values())).raw) if columns else 0, rules.k)
    out, methods = {}, {}
    for position, (name, column) in enumerate(columns.items()):
        # Only a column whose level changed is recoded again (and noise is drawn once).
        if column.level not in column.done:
            column.done[column.level] = _recode(column, position, rules, thresholds,
                                                continuous, noise, seed)
        out[name], done = column.done[column.level]
        methods[name] = list(column.notes) + done
    return pd.DataFrame(out), methods


def _recode(column: _Column, position: int, rules: RiskRules, thresholds: list[int],
            continuous: ContinuousMethod, noise: float,
            seed: int | None) -> tuple[pd.Series, list[str]]:
    if column.kind == "continuous" and continuous == "noise":
        # One generator per column: its noise does not depend on the other columns.
        rng = np.random.default_rng(None if seed is None else [seed, position])
        values, done = _noise(column.raw, column.values, noise, rules.k, rng)
    elif column.kind == "continuous":
        values, done = _bands(column.values, _BANDS[column.level], rules.k)
    else:
        threshold = thresholds[column.level]
        values, merged = _rare_to_other(column.values, threshold, rules.k)
        done = [f"global recoding: {merged} rare categories (each < {threshold} "
                f"records) into {OTHER}"] if merged else []
    return values.astype(str), done


def _thresholds(rows: int, k: int) -> list[int]:
    """The rare-category threshold of each level, increasing."""
    levels = sorted({k * m for m in _RARE_MULTIPLES} | {math.ceil(rows * s)
                                                       for s in _RARE_SHARES})
    return [t for t in levels if t >= k]


def protect(frame: pd.DataFrame, rules: RiskRules, *, continuous: ContinuousMethod = "recode",
            noise: float = 0.1, max_suppression: float = 0.05,
            seed: int | None = None) -> Protection:
    """Apply the methods to ``frame`` (text columns) until every checked combination of its
    columns has classes of at least ``rules.k`` records, or refuse."""
    frame = frame.astype(str)
    before = measure(frame, rules)
    columns, refusals = _prepare(frame, rules)
    allowance = _extreme_count(len(frame), rules.k)
    released, methods = _apply(columns, rules, continuous, noise, seed)
    risk = measure(released, rules)
    thresholds = _thresholds(len(frame), rules.k)
    while int(risk.at_risk.sum()) > allowance and not refusals:
        open_ = [i for i, c in enumerate(columns.values())
                 if c.coarsenable(continuous, thresholds)]
        if not open_:
            break
        weight = risk.contribution[risk.at_risk].sum(axis=0)
        best = max(open_, key=lambda i: (int(weight[i]), -i))
        if weight[best] == 0:
            break
        list(columns.values())[best].level += 1
        released, methods = _apply(columns, rules, continuous, noise, seed)
        risk = measure(released, rules)
    suppressed = np.zeros(released.shape, dtype=bool)
    # Suppressing a record's cell takes it out of its classes, which can leave others
    # below k: passes repeat (bounded; past the allowance of cells it is refused anyway).
    budget = max_suppression * max(released.size, 1)
    for _ in range(4 * released.shape[1] + 4):
        if refusals or not risk.at_risk.any() or suppressed.sum() > budget:
            break
        rows = np.flatnonzero(risk.at_risk)
        # The column in most of the record's small classes; ties: the one with more
        # distinct values (it singles records out more), as in hub.disclosure.kanon.
        distinct = released.nunique().to_numpy()
        ranked = risk.contribution[rows].astype(np.int64) * (int(distinct.max()) + 1)
        target = (ranked + distinct[None, :]).argmax(axis=1)
        suppressed[rows, target] = True
        values = released.to_numpy(dtype=object)
        values[suppressed] = SUPPRESSED
        released = pd.DataFrame(values, columns=released.columns)
        risk = measure(released, rules)
    for position, name in enumerate(released.columns):
        cells = int(suppressed[:, position].sum())
        if cells:
            methods[name].append(f"local suppression: {cells} cell(s)")
    total = int(suppressed.sum())
    if total > budget:
        refusals.append({"check": "too_much_suppression", "where": "every column", "detail": (
            f"{total} cells would be suppressed, more than {max_suppression:.0%} of the "
            "file: drop or coarsen columns first")})
    return Protection(frame=released, before=before, after=risk, methods=methods,
                      suppressed_cells=total, refusals=refusals)
