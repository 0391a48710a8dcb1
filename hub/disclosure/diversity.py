"""l-diversity and t-closeness of sensitive variables (docs/classification.md).

k-anonymity hides a person among ``k`` others, but if all of them share the value of a
sensitive variable (every person in the class is in special education), the class tells
it anyway. For each sensitive variable with a rule, every *equivalence class* (rows with
the same released quasi-identifier values; a missing value is a value of its own) must

* show at least ``l`` distinct non-missing values (distinct l-diversity), and
* have a distribution within total-variation distance ``t`` of the variable's distribution
  in the whole table (t-closeness with the equal-distance ground metric, where the earth
  mover's distance is the total-variation distance; numeric values are treated as
  categories, which is stricter than an ordered distance).

Where a class fails, the sensitive variable's cells in that class are suppressed (local
suppression: blanked), so what is released never shows the class's value. The report says,
per variable, the rule, the classes checked, those that failed and the cells suppressed.
A table without quasi-identifiers is one class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from hub.disclosure.kanon import class_keys


@dataclass(frozen=True, slots=True)
class SensitiveOutcome:
    """What the check did to one sensitive variable."""

    l_diversity: int
    t_closeness: float
    classes: int
    failed_classes: int
    cells_suppressed: int

    def report(self) -> dict[str, Any]:
        return {"l_diversity": self.l_diversity, "t_closeness": self.t_closeness,
                "classes": self.classes, "failed_classes": self.failed_classes,
                "cells_suppressed": self.cells_suppressed}


def _distance(part: pd.Series, overall: pd.Series) -> float:
    """Total-variation distance between two value distributions (shares)."""
    joined = pd.concat([part, overall], axis=1).fillna(0.0)
    return float((joined.iloc[:, 0] - joined.iloc[:, 1]).abs().sum() / 2)


def failing_classes(keys: pd.Series, values: pd.Series, *, l_diversity: int,
                    t_closeness: float) -> tuple[int, set[object]]:
    """The number of classes of ``keys`` and the keys of those where ``values`` is not
    l-diverse or not t-close (missing values never count as a distinct value)."""
    present = values.notna()
    overall = values[present].astype(str).value_counts(normalize=True)
    failed: set[object] = set()
    groups = values.groupby(keys, sort=False, dropna=False)
    for key, group in groups:
        shown = group[group.notna()].astype(str)
        if shown.empty:
            continue  # nothing of the variable is released in this class
        too_few = bool(l_diversity) and shown.nunique() < l_diversity
        too_far = bool(t_closeness) and _distance(shown.value_counts(normalize=True),
                                                  overall) > t_closeness
        if too_few or too_far:
            failed.add(key)
    return groups.ngroups, failed


def protect_sensitive(table: pd.DataFrame, *, quasi_identifiers: Sequence[str],
                      rules: Mapping[str, tuple[int, float]]
                      ) -> tuple[pd.DataFrame, dict[str, SensitiveOutcome]]:
    """``table`` with each sensitive column of ``rules`` (column → (l, t)) suppressed in
    the classes of ``quasi_identifiers`` where it fails; and what was done."""
    table = table.copy()
    keys = pd.Series("", index=table.index, dtype=object)
    for column in quasi_identifiers:
        # One text key per class (a unit separator between the columns' values).
        keys = keys + "\x1f" + class_keys(table[column]).astype(str)
    outcomes = {}
    for column, (l_value, t_value) in rules.items():
        if column not in table.columns:
            continue
        classes, failed = failing_classes(keys, table[column], l_diversity=l_value,
                                          t_closeness=t_value)
        hit = keys.isin(failed) & table[column].notna()
        if hit.any():
            table[column] = table[column].astype(object).where(~hit, None)
        outcomes[column] = SensitiveOutcome(l_value, t_value, classes, len(failed),
                                            int(hit.sum()))
    return table, outcomes


def protect_tables(tables: Mapping[str, pd.DataFrame], *,
                   quasi_identifiers: Mapping[str, Sequence[str]],
                   sensitive: Mapping[str, tuple[int, float]]
                   ) -> tuple[dict[str, pd.DataFrame], dict[str, SensitiveOutcome]]:
    """:func:`protect_sensitive` over an extract's agency tables (``person_id`` in each).

    ``sensitive`` names ``AGENCY.variable``. A table's classes are its own released
    quasi-identifiers plus those of every one-row-per-person table joined on the person id
    (a researcher can join them too); a person × period table's quasi-identifiers stay in
    its own rows."""
    person_level: dict[str, pd.DataFrame] = {}
    for agency, names in quasi_identifiers.items():
        table = tables[agency]
        if names and table["person_id"].is_unique:
            person_level[agency] = table.set_index("person_id")[list(names)].add_prefix(
                f"{agency}.")
    released = dict(tables)
    outcomes: dict[str, SensitiveOutcome] = {}
    for agency, table in tables.items():
        rules = {name.split(".", 1)[1]: rule for name, rule in sensitive.items()
                 if name.split(".", 1)[0] == agency}
        if not rules:
            continue
        frame = table.copy()
        keys = list(quasi_identifiers.get(agency, []))
        for other, columns in person_level.items():
            if other == agency:
                continue
            for column in columns.columns:
                frame[column] = frame["person_id"].map(columns[column])
                keys.append(column)
        protected, result = protect_sensitive(frame, quasi_identifiers=keys, rules=rules)
        released[agency] = protected[list(table.columns)]
        outcomes.update({f"{agency}.{name}": outcome for name, outcome in result.items()})
    return released, outcomes
