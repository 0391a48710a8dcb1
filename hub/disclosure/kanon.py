"""k-anonymity on declared quasi-identifiers, with generalisation, suppression or a block.

Input: one row per person (index = project person id) — or several, with ``persons``
(below) — and one column per quasi-identifier (QI): in an extract, the QIs of every agency
joined on the person id, because a researcher can join the tables too. An *equivalence
class* is a set of rows with the same values in every QI. A missing value (never recorded,
or suppressed) is a value of its own, which is conservative: it never helps a small class
hide among records that do have the value. A row whose QIs are *all* missing carries no
quasi-identifying information and is never counted as violating.

**Persons, not rows.** A longitudinal extract holds several rows per person (one per
period). ``persons`` (a Series aligned with the frame's rows, the person each row belongs
to) makes every size a count of *distinct persons*: a class of three rows of one person is a
class of one, so a person's many periods never make a class look safe. Without it each row
is its own person (the one-row-per-person case, unchanged). ``person_columns`` names the
QIs whose value belongs to the person rather than the row (an agency's one-row-per-person
QIs repeated on each of a person's rows): a cell of such a column suppressed in one row is
suppressed in all of that person's rows, so the person's released value is one value.

The check: every class must hold at least ``k`` persons. Where one does not, the policy says
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
from collections.abc import Collection
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


def small_class_rows(keys: pd.DataFrame, k: int, persons: pd.Series | None = None) -> pd.Series:
    """Boolean per row: in a class of fewer than ``k`` persons (all-missing rows excepted).

    ``persons`` (aligned with ``keys``) says whose each row is; a class's size is then its
    number of distinct persons. Without it every row is one person."""
    if keys.empty or len(keys.columns) == 0:
        return pd.Series(False, index=keys.index)
    ids = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup()
    if persons is None:
        sizes = ids.map(ids.value_counts())
    else:
        owners = pd.Series(persons.to_numpy(), index=ids.index)
        sizes = owners.groupby(ids, sort=False).transform("nunique")
    all_missing = (keys == _MISSING).all(axis=1)
    return (sizes < k) & ~all_missing


def _classes_below(keys: pd.DataFrame, mask: pd.Series) -> int:
    if not mask.any():
        return 0
    return int(keys[mask].drop_duplicates().shape[0])


def _univariate_below(keys: pd.Series, k: int, persons: pd.Series) -> int:
    present = keys != _MISSING
    counts = persons[present].groupby(keys[present], sort=False).nunique()
    return int((counts < k).sum())


def _persons_in(mask: pd.Series, persons: pd.Series) -> int:
    """Distinct persons among the rows of ``mask``."""
    return int(persons[mask].nunique())


def _one_person_per_row(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(range(len(frame)), index=frame.index)


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
    #: Distinct persons in the frame, and with a row in a class below ``k`` before/after
    #: (equal to the row counts when every row is a person).
    persons: int = 0
    persons_below_k_before: int = 0
    persons_below_k_after: int = 0
    _original: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _steps: dict[str, list[Step]] = field(default_factory=dict, repr=False)
    _suppressed: dict[str, pd.Series] = field(default_factory=dict, repr=False)

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
            "persons": self.persons,
            "persons_below_k_before": self.persons_below_k_before,
            "persons_below_k_after": self.persons_below_k_after,
            "variables": {n: v.as_dict() for n, v in self.variables.items()},
        }


def _generalise(original: pd.DataFrame, keys: pd.DataFrame, steps: dict[str, list[Step]],
                levels: dict[str, int], k: int, persons: pd.Series) -> pd.DataFrame:
    # Scores and the allowance count persons (a person's many rows are one person).
    def below_of(trial: pd.DataFrame) -> int:
        return _persons_in(small_class_rows(trial, k, persons), persons)

    allowance = max(k, math.ceil(0.01 * int(persons.nunique())))
    below = below_of(keys)
    while below:
        best: tuple[tuple[int, int, int], str, int, pd.Series] | None = None
        for position, name in enumerate(keys.columns):
            for level in range(levels[name] + 1, len(steps[name]) + 1):
                column = class_keys(steps[name][level - 1].apply(original[name]))
                trial = keys.assign(**{name: column})
                score = (below_of(trial), level - levels[name], position)
                if best is None or score < best[0]:
                    best = (score, name, level, column)
        if best is not None and best[0][0] < below:
            (below, _, _), name, level, column = best
        else:
            name = _datafly_choice(keys, steps, levels)
            if name is None or below <= allowance:
                return keys
            level = levels[name] + 1
            column = class_keys(steps[name][level - 1].apply(original[name]))
        keys = keys.assign(**{name: column})
        levels[name] = level
        below = below_of(keys)
    return keys


def _datafly_choice(keys: pd.DataFrame, steps: dict[str, list[Step]],
                    levels: dict[str, int]) -> str | None:
    open_ = [n for n in keys.columns if levels[n] < len(steps[n])]
    if not open_:
        return None
    return str(max(open_, key=lambda n: (keys[n][keys[n] != _MISSING].nunique(),
                                         -list(keys.columns).index(n))))


def _suppress(keys: pd.DataFrame, suppressed: dict[str, pd.Series], k: int,
              persons: pd.Series, person_columns: frozenset[str]) -> pd.DataFrame:
    order = sorted(keys.columns, key=lambda n: (-keys[n][keys[n] != _MISSING].nunique(), n))
    # One pass is enough when every row is a person. A person-level cell suppressed in one
    # row is suppressed in the person's other rows too, which can leave one of those rows
    # in a small class: passes repeat until none is (each pass blanks at least one more
    # cell, so this ends).
    while small_class_rows(keys, k, persons).any():
        for name in order:
            below = small_class_rows(keys, k, persons)
            if not below.any():
                break
            hit = below & (keys[name] != _MISSING)
            if name in person_columns and hit.any():
                hit = persons.isin(set(persons[hit])) & (keys[name] != _MISSING)
            suppressed[name] = suppressed[name] | hit
            keys = keys.assign(**{name: keys[name].where(~hit, _MISSING)})
    return keys


def k_anonymise(frame: pd.DataFrame, *, types: dict[str, str], k: int = DEFAULT_K,
                policy: Policy = "generalise", persons: pd.Series | None = None,
                person_columns: Collection[str] = ()) -> KAnonymityResult:
    """Check ``frame`` (QI columns only) for ``k``-anonymity and apply ``policy`` where it
    fails; ``types`` gives each column's catalog type.

    ``persons`` (aligned with ``frame``'s rows) says whose each row is, so classes are
    sized in distinct persons; without it each row is one person. ``person_columns`` are
    the QIs whose value is the person's in every row (suppressed for all of a person's rows
    at once)."""
    if k < 2:
        raise ValueError("k must be at least 2")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}")
    if persons is None:
        persons = _one_person_per_row(frame)
    elif len(persons) != len(frame):
        raise ValueError("persons must give one person per row of the frame")
    persons = pd.Series(persons.to_numpy(), index=frame.index)
    person_level = frozenset(person_columns)
    names = list(frame.columns)
    keys = pd.DataFrame({n: class_keys(frame[n]) for n in names}, index=frame.index)
    steps = {n: ladder_for(n, types.get(n, "string"), frame[n]) for n in names}
    suppressed = {n: pd.Series(False, index=frame.index) for n in names}
    outcomes = {n: VariableOutcome(classes_below_k_before=_univariate_below(keys[n], k, persons))
                for n in names}
    before = small_class_rows(keys, k, persons)
    classes_before = _classes_below(keys, before)
    blocked = policy == "block" and bool(before.any())
    if before.any() and policy != "block":
        levels = dict.fromkeys(names, 0)
        if policy == "generalise":
            keys = _generalise(frame, keys, steps, levels, k, persons)
        keys = _suppress(keys, suppressed, k, persons, person_level)
        for name in names:
            outcome = outcomes[name]
            outcome.level = levels[name]
            # A person-level value is released once per person: count persons.
            outcome.cells_suppressed = (_persons_in(suppressed[name], persons)
                                        if name in person_level
                                        else int(suppressed[name].sum()))
            rules = [steps[name][levels[name] - 1].rule] if levels[name] else []
            rules += ["local suppression"] if outcome.cells_suppressed else []
            outcome.rule = "; ".join(rules) or "none"
    after = small_class_rows(keys, k, persons)
    for name in names:
        outcomes[name].classes_below_k_after = _univariate_below(keys[name], k, persons)
    return KAnonymityResult(
        k=k, policy=policy, rows=len(frame), blocked=blocked,
        classes_below_k_before=classes_before, rows_below_k_before=int(before.sum()),
        classes_below_k_after=_classes_below(keys, after), rows_below_k_after=int(after.sum()),
        variables=outcomes, persons=int(persons.nunique()),
        persons_below_k_before=_persons_in(before, persons),
        persons_below_k_after=_persons_in(after, persons),
        _original=frame, _steps=steps, _suppressed=suppressed,
    )
