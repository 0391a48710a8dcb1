"""Automatic checks of a researcher's output table before stewards see it (the airlock).

Three kinds of CSV table:

``frequency``
    first column the row labels, every other column counts; a row or column labelled
    ``Total``/``All`` is read as a margin. Suppressed cells are written as empty, ``*``,
    ``c``, ``s``, ``x``, ``suppressed`` or ``<N``. Checks: no visible count ``0 < n <
    threshold``; and the suppression pattern gives nothing away (:mod:`hub.disclosure.cells`
    — no line with a lone suppressed cell, no bridge). Margins are assumed to be known even
    when the table leaves them out (they usually are published elsewhere). A table with one
    row or one column is a single line.
``means``
    label columns, a count column (``n``) and value columns (means, rates …) by group;
    a row labelled ``Total``/``All`` is the overall row. Checks: no visible count below the
    threshold; no visible value of a group whose count is small or suppressed; not exactly
    one group suppressed.
``records``
    one row per unit; the columns that are the project's declared quasi-identifiers are
    checked for ``k``-anonymity (:mod:`hub.disclosure.kanon`).

The result lists findings (check, where, detail) with counts and labels only, never a
cell's value, and passes when there are none.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from hub.disclosure.cells import DEFAULT_THRESHOLD, bridges
from hub.disclosure.kanon import DEFAULT_K, class_keys, small_class_rows

OutputKind = Literal["frequency", "means", "records"]
OUTPUT_KINDS: Final = ("frequency", "means", "records")
_MARKS: Final = frozenset({"", "*", "c", "s", "x", "suppressed"})
_LESS_THAN = re.compile(r"^<\s*[0-9]+$")
_TOTAL_LABELS: Final = frozenset({"total", "all", "overall"})


class OutputFormatError(ValueError):
    """The table is not a CSV of the declared kind (names the first problem)."""


@dataclass
class OutputCheck:
    kind: str
    threshold: int
    k: int
    findings: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.findings

    def add(self, check: str, where: str, detail: str) -> None:
        self.findings.append({"check": check, "where": where, "detail": detail})

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "passed": self.passed, "threshold": self.threshold,
                "k": self.k, "findings": self.findings, "summary": self.summary}


def _is_mark(text: str) -> bool:
    text = text.strip().lower()
    return text in _MARKS or bool(_LESS_THAN.match(text))


def _count(text: str, where: str) -> int | None:
    """``None`` for a suppressed cell, else the count; :class:`OutputFormatError` otherwise."""
    if _is_mark(text):
        return None
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        raise OutputFormatError(f"{where} is neither a count nor a suppression mark") from None
    if value < 0 or not value.is_integer():
        raise OutputFormatError(f"{where} is not a whole non-negative count")
    return int(value)


def _read(csv_text: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as exc:
        raise OutputFormatError(f"not a readable CSV table ({type(exc).__name__})") from None
    if frame.empty or len(frame.columns) < 2:
        raise OutputFormatError("the table needs a header, at least one row and two columns")
    return frame


def _is_total(label: object) -> bool:
    return str(label).strip().lower() in _TOTAL_LABELS


def _check_frequency(frame: pd.DataFrame, result: OutputCheck) -> None:
    labels = frame.iloc[:, 0].tolist()
    columns = list(frame.columns[1:])
    rows = [i for i, label in enumerate(labels) if not _is_total(label)]
    cols = [c for c in columns if not _is_total(c)]
    total_row = next((i for i, label in enumerate(labels) if _is_total(label)), None)
    total_col = next((c for c in columns if _is_total(c)), None)
    grid = [[_count(frame.at[i, c], f"cell ({labels[i]}, {c})") for c in columns]
            for i in range(len(labels))]
    for i, label in enumerate(labels):
        for j, column in enumerate(columns):
            value = grid[i][j]
            if value is not None and 0 < value < result.threshold:
                result.add("small_cell", f"({label}, {column})",
                           f"a visible count below {result.threshold}")
    # The pattern on the full table with margins (missing margins count as published).
    shape = (len(rows) + 1, len(cols) + 1)
    hidden = np.zeros(shape, dtype=bool)
    for a, i in enumerate(rows):
        for b, c in enumerate(cols):
            hidden[a, b] = grid[i][columns.index(c)] is None
        if total_col is not None:
            hidden[a, -1] = grid[i][columns.index(total_col)] is None
    if total_row is not None:
        for b, c in enumerate(cols):
            hidden[-1, b] = grid[total_row][columns.index(c)] is None
    names_r = [str(labels[i]) for i in rows] + ["Total"]
    names_c = [str(c) for c in cols] + ["Total"]
    suppressed = int(hidden.sum())
    result.summary = {"rows": len(rows), "columns": len(cols), "suppressed_cells": suppressed}
    if len(rows) == 1 or len(cols) == 1:
        line = hidden[0, :-1] if len(rows) == 1 else hidden[:-1, 0]
        names = names_c if len(rows) == 1 else names_r
        if int(line.sum()) == 1:
            where = names[int(np.flatnonzero(line)[0])]
            result.add("recoverable_cell", where,
                       "the only suppressed cell of its line: the total gives it away")
        return
    for cell in bridges(hidden):
        result.add("recoverable_cell", f"({names_r[cell[0]]}, {names_c[cell[1]]})",
                   "the row and column totals give this suppressed cell away; suppress "
                   "a complementary cell")


def _check_means(frame: pd.DataFrame, result: OutputCheck, count_column: str) -> None:
    if count_column not in frame.columns:
        raise OutputFormatError(f"a means table needs a count column {count_column!r}")
    first = frame.columns[0]
    values = [c for c in frame.columns[1:] if c != count_column]
    hidden_groups = []
    groups = 0
    for i in range(len(frame)):
        label = frame.at[i, first]
        count = _count(frame.at[i, count_column], f"{count_column} of {label}")
        small = count is None or (0 < count < result.threshold)
        if _is_total(label):
            continue
        groups += 1
        if count is not None and small:
            result.add("small_cell", str(label), f"a visible count below {result.threshold}")
        if count is None:
            hidden_groups.append(str(label))
        for column in values:
            if small and not _is_mark(frame.at[i, column]):
                result.add("small_group_value", f"({label}, {column})",
                           "a value of a group whose count is small or suppressed")
    if len(hidden_groups) == 1:
        result.add("recoverable_cell", hidden_groups[0],
                   "the only suppressed group: the overall figures give it away")
    result.summary = {"groups": groups, "suppressed_groups": len(hidden_groups)}


def _check_records(frame: pd.DataFrame, result: OutputCheck, qis: list[str]) -> None:
    present = [c for c in frame.columns if c in qis]
    keys = pd.DataFrame({c: class_keys(frame[c].replace("", None)) for c in present})
    below = small_class_rows(keys, result.k) if present else pd.Series(False, index=frame.index)
    result.summary = {"rows": len(frame), "quasi_identifiers": present}
    if below.any():
        classes = int(keys[below].drop_duplicates().shape[0])
        result.add("k_anonymity", ", ".join(present),
                   f"{classes} combination(s) of quasi-identifiers cover fewer than "
                   f"{result.k} rows ({int(below.sum())} rows)")


def check_output(csv_text: str, *, kind: OutputKind, threshold: int = DEFAULT_THRESHOLD,
                 k: int = DEFAULT_K, quasi_identifiers: list[str] | None = None,
                 count_column: str = "n") -> OutputCheck:
    """Run the automatic disclosure checks on one CSV output table."""
    if kind not in OUTPUT_KINDS:
        raise OutputFormatError(f"kind must be one of {', '.join(OUTPUT_KINDS)}")
    frame = _read(csv_text)
    result = OutputCheck(kind=kind, threshold=threshold, k=k)
    if kind == "frequency":
        _check_frequency(frame, result)
    elif kind == "means":
        _check_means(frame, result, count_column)
    else:
        _check_records(frame, result, list(quasi_identifiers or []))
    return result
