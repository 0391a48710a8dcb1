"""k-anonymity on declared quasi-identifiers, with generalisation, suppression or a block.

Input: one row per person (index = project person id), one column per quasi-identifier
(QI) — in an extract, the QIs of every agency joined on the person id, because a researcher
can join the tables too. An *equivalence class* is a set of rows with the same values in
every QI. A missing value (never recorded, or suppressed) is a value of its own, which is
conservative: it never helps a small class hide among records that do have the value. A row
whose QIs are *all* missing carries no quasi-identifying information and is never counted
as violating.

The check: every class must hold at least ``k`` rows. Where one does not, the policy says
what happens:

``block``
    nothing is changed; the result is ``blocked`` and the release waits for a data
    steward's decision (the report says how many classes and rows are below ``k``).
``suppress`` (local suppression)
    for the rows in classes below ``k``, QI cells are blanked one variable at a time — the
    variable with the most distinct values first, ties by name — re-computing the classes
    after each variable, until no row is in a class below ``k``. Rows outside small classes
    keep every value.
``generalise`` (then suppress what is left)
    greedy full-domain generalisation: at each step, among every variable and every
    further level of its ladder (:mod:`hub.disclosure.generalise`), take the one that
    leaves the fewest rows in classes below ``k`` (ties: the smaller jump, then the
    declared order). When no single step reduces that number and more than the
    *suppression allowance* (``max(k, 1 % of rows)``) rows are still below ``k``, take a
    Datafly step instead (Sweeney 1998): the next level of the variable with the most
    distinct values (ties: declared order) — two variables often have to be coarsened
    together before either helps. Stop when no row is below ``k``, when the few rows left
    are within the allowance (suppressing a handful of outliers beats coarsening everyone),
    or when every ladder is used up. Generalising never makes things worse (coarser values
    only merge classes) and ladders are finite, so the loop ends. Rows still below ``k``
    are then locally suppressed as above.

The result says, per variable, the rule applied, the cells suppressed and the number of
its own (one-variable) classes below ``k`` before and after; and overall, the classes and
rows below ``k`` before and after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pandas as pd

from hub.disclosure.generalise import Step, ladder_for

Policy = Literal["generalise", "suppress", "block"]
POLICIES: Final = ("generalise", "suppress", "block")
DEFAULT_K: Final = 5
_MISSING: Final = "\x00missing"


def _text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        values = values.dt.strftime("%Y-%m-%d")
    return values.astype("string")


def class_keys(values: pd.Series) -> pd.Series:
    return _text(values).fillna(_MISSING).astype(object)


def small_class_rows(keys: pd.DataFrame, k: int) -> pd.Series:
    """Boolean per row: in a class of fewer than ``k`` rows (all-missing rows excepted)."""
    if keys.empty or len(keys.columns) == 0:
        return pd.Series(False, index=keys.index)
    ids = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup()
    sizes = ids.map(ids.value_counts())
    all_missing = (keys == _MISSING).all(axis=1)
    return (sizes < k) & ~all_missing


def _classes_below(keys: pd.DataFrame, mask: pd.Series) -> int:
    if not mask.any():
        return 0
    return int(keys[mask].drop_duplicates().shape[0])


def _univariate_below(keys: pd.Series, k: int) -> int:
    counts = keys[keys != _MISSING].value_counts()
    return int((counts < k).sum())


@dataclass
class VariableOutcome:
    rule: str = "none"
    level: int = 0
    cells_suppressed: int = 0
    classes_below_k_before: int = 0
    classes_below_k_after: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "level": self.level,
                "cells_suppressed": self.cells_suppressed,
                "classes_below_k_before": self.classes_below_k_before,
                "classes_below_k_after": self.classes_below_k_after}


@dataclass
class KAnonymityResult:
    """What was done. :meth:`values` gives a variable's released values."""

    k: int
    policy: str
    rows: int
    classes_below_k_before: int
    rows_below_k_before: int
    classes_below_k_after: int
    rows_below_k_after: int
    blocked: bool
    variables: dict[str, VariableOutcome]
    _original: pd.DataFrame = field(repr=False)
    _steps: dict[str, list[Step]] = field(repr=False)
    _suppressed: dict[str, pd.Series] = field(repr=False)

    def values(self, name: str) -> pd.Series:
        """The released values of ``name`` (index as the input): the original values
        (original type) when not generalised, else strings; suppressed cells missing."""
        outcome = self.variables[name]
        column = self._original[name]
        if outcome.level:
            column = self._steps[name][outcome.level - 1].apply(column)
        mask = self._suppressed[name]
        if mask.any():
            column = column.astype(object).where(~mask, None)
            if outcome.level:
                column = column.astype("string")
        return column

    def report(self) -> dict[str, Any]:
        return {
            "k": self.k, "policy": self.policy, "rows": self.rows, "blocked": self.blocked,
            "classes_below_k_before": self.classes_below_k_before,
            "rows_below_k_before": self.rows_below_k_before,
            "classes_below_k_after": self.classes_below_k_after,
            "rows_below_k_after": self.rows_below_k_after,
            "variables": {n: v.as_dict() for n, v in self.variables.items()},
        }


def _generalise(original: pd.DataFrame, keys: pd.DataFrame, steps: dict[str, list[Step]],
                levels: dict[str, int], k: int) -> pd.DataFrame:
    below = int(small_class_rows(keys, k).sum())
    while below:
        best: tuple[tuple[int, int, int], str, int, pd.Series] | None = None
        for position, name in enumerate(keys.columns):
            for level in range(levels[name] + 1, len(steps[name]) + 1):
                column = class_keys(steps[name][level - 1].apply(original[name]))
                trial = keys.assign(**{name: column})
                score = (int(small_class_rows(trial, k).sum()), level - levels[name], position)
                if best is None or score < best[0]:
                    best = (score, name, level, column)
        if best is not None and best[0][0] < below:
            (below, _, _), name, level, column = best
        else:
            name = _datafly_choice(keys, steps, levels)
            if name is None or below <= max(k, math.ceil(0.01 * len(keys))):
                return keys
            level = levels[name] + 1
            column = class_keys(steps[name][level - 1].apply(original[name]))
        keys = keys.assign(**{name: column})
        levels[name] = level
        below = int(small_class_rows(keys, k).sum())
    return keys


def _datafly_choice(keys: pd.DataFrame, steps: dict[str, list[Step]],
                    levels: dict[str, int]) -> str | None:
    open_ = [n for n in keys.columns if levels[n] < len(steps[n])]
    if not open_:
        return None
    return str(max(open_, key=lambda n: (keys[n][keys[n] != _MISSING].nunique(),
                                         -list(keys.columns).index(n))))


def _suppress(keys: pd.DataFrame, suppressed: dict[str, pd.Series], k: int) -> pd.DataFrame:
    order = sorted(keys.columns, key=lambda n: (-keys[n][keys[n] != _MISSING].nunique(), n))
    for name in order:
        below = small_class_rows(keys, k)
        if not below.any():
            break
        hit = below & (keys[name] != _MISSING)
        suppressed[name] = suppressed[name] | hit
        keys = keys.assign(**{name: keys[name].where(~hit, _MISSING)})
    return keys


def k_anonymise(frame: pd.DataFrame, *, types: dict[str, str], k: int = DEFAULT_K,
                policy: Policy = "generalise") -> KAnonymityResult:
    """Check ``frame`` (one row per person, QI columns only) for ``k``-anonymity and apply
    ``policy`` where it fails; ``types`` gives each column's catalog type."""
    if k < 2:
        raise ValueError("k must be at least 2")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}")
    names = list(frame.columns)
    keys = pd.DataFrame({n: class_keys(frame[n]) for n in names}, index=frame.index)
    steps = {n: ladder_for(n, types.get(n, "string"), frame[n]) for n in names}
    suppressed = {n: pd.Series(False, index=frame.index) for n in names}
    outcomes = {n: VariableOutcome(classes_below_k_before=_univariate_below(keys[n], k))
                for n in names}
    before = small_class_rows(keys, k)
    classes_before = _classes_below(keys, before)
    blocked = policy == "block" and bool(before.any())
    if before.any() and policy != "block":
        levels = dict.fromkeys(names, 0)
        if policy == "generalise":
            keys = _generalise(frame, keys, steps, levels, k)
        keys = _suppress(keys, suppressed, k)
        for name in names:
            outcome = outcomes[name]
            outcome.level = levels[name]
            outcome.cells_suppressed = int(suppressed[name].sum())
            rules = [steps[name][levels[name] - 1].rule] if levels[name] else []
            rules += ["local suppression"] if outcome.cells_suppressed else []
            outcome.rule = "; ".join(rules) or "none"
    after = small_class_rows(keys, k)
    for name in names:
        outcomes[name].classes_below_k_after = _univariate_below(keys[name], k)
    return KAnonymityResult(
        k=k, policy=policy, rows=len(frame), blocked=blocked,
        classes_below_k_before=classes_before, rows_below_k_before=int(before.sum()),
        classes_below_k_after=_classes_below(keys, after), rows_below_k_after=int(after.sum()),
        variables=outcomes, _original=frame, _steps=steps, _suppressed=suppressed,
    )
