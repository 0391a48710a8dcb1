"""Longitudinal agency tables: the ``period`` column, its order, and a table's grain (pure).

A node whose agency maps a period column sends, for a linked person, one row per period
with a string column ``period`` normalised by the node (docs/agency-node.md): ``2021``
(year), ``2021-22`` (school year), ``2021FA``/``2022SP``/``2021T1`` (term), ``2021Q3``
(quarter) or an ISO date ``2021-03-07``. The hub does not import the node's parser (hub and
agency_node share only ``protocol``); it only needs to *order* and *name* these forms, and
an unrecognised value is kept as it is (ordered by its year, then its text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import pandas as pd

#: The column a longitudinal payload and ``agency_<CODE>`` table carry the period in.
PERIOD_COLUMN: Final = "period"
#: The kinds, in the order a grain lists them (as the node's profile does).
PERIOD_KINDS: Final = ("year", "school_year", "term", "quarter", "date")

_KIND_PATTERNS: Final = (
    ("year", re.compile(r"\d{4}")),
    ("school_year", re.compile(r"\d{4}-\d{2}")),
    ("term", re.compile(r"\d{4}(?:FA|SP|SU|WI|T[1-4])")),
    ("quarter", re.compile(r"\d{4}Q[1-4]")),
    ("date", re.compile(r"\d{4}-\d{2}-\d{2}")),
)
_SEASON_ORDER: Final = {"WI": 0, "SP": 1, "SU": 2, "FA": 3}

GRAIN_PERSON: Final = "one row per person"
GRAIN_PERIOD: Final = "one row per person and period"


def period_kind(value: str) -> str | None:
    """The kind of a normalised period, or None when it is none of the known forms."""
    for kind, pattern in _KIND_PATTERNS:
        if pattern.fullmatch(value):
            return kind
    return None


def period_sort_key(value: object) -> tuple[int, int, int, str]:
    """Chronological order of normalised periods (``2022SP`` before ``2022FA``, which a
    plain text sort gets wrong); a missing period sorts last."""
    if not isinstance(value, str) or not value:
        return (1, 0, 0, "")
    year = int(value[:4]) if value[:4].isdigit() else 0
    rest = value[4:]
    if rest in _SEASON_ORDER:
        return (0, year, _SEASON_ORDER[rest], "")
    return (0, year, 0, rest)


def sort_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` ordered by person id, then period (chronologically), then every other
    column's text — a total order that depends only on the released values, never on the
    order in which a node (or its database) returned the rows."""
    columns = [c for c in frame.columns if c not in ("person_id", PERIOD_COLUMN)]
    order = pd.DataFrame({"person_id": frame["person_id"].astype("string").fillna("")},
                         index=frame.index)
    if PERIOD_COLUMN in frame.columns:
        keys = [period_sort_key(v) for v in frame[PERIOD_COLUMN]]
        for i in range(4):
            order[f"\x00period{i}"] = [key[i] for key in keys]
    for i, name in enumerate(columns):
        order[f"\x00value{i}"] = frame[name].astype("string").fillna("")
    ranked = order.sort_values(list(order.columns), kind="stable").index
    return frame.loc[ranked].reset_index(drop=True)


def is_longitudinal(frame: pd.DataFrame) -> bool:
    """Whether the table is person × period: it has a ``period`` column or a person has
    several rows."""
    return PERIOD_COLUMN in frame.columns or bool(frame["person_id"].duplicated().any())


def grain(frame: pd.DataFrame) -> str:
    """The table's grain in words, for the data dictionary and the bundle's README."""
    if PERIOD_COLUMN not in frame.columns:
        if frame["person_id"].duplicated().any():
            return "several rows per person (no period)"
        return GRAIN_PERSON
    kinds = _kinds(frame[PERIOD_COLUMN].dropna())
    return GRAIN_PERIOD + (f" ({', '.join(kinds)})" if kinds else "")


def _kinds(values: Iterable[object]) -> list[str]:
    found = {period_kind(v) for v in set(values) if isinstance(v, str)}
    return [kind for kind in PERIOD_KINDS if kind in found]
