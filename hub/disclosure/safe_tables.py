"""Automatic safe outputs: a researcher's table of counts, protected for the airlock.

:func:`parse_counts` reads a CSV table of counts — first column the row labels, every other
column counts; a row and/or a column labelled ``Total``/``All``/``Overall`` is read as a
margin and must add up. One count column (or one row of counts) is a 1-D table, anything
wider a 2-D one. It refuses (:class:`TableError`, naming where, never the value) ragged
rows, cells that are not whole non-negative counts, cells already suppressed, repeated
labels, margins that do not add up and tables above the hub's size limit. Messages give
positions (line, column), never a label or a value: they are audited.

:func:`protect` then applies :mod:`hub.disclosure.cells` (not a copy of it): primary
suppression of counts ``0 < n < min_cell`` (and of zeros when the policy says so), then
complementary suppression so no suppressed cell can be recovered from the published totals
(2-D: :func:`~hub.disclosure.cells.protect_table`, margins included; 1-D:
:func:`~hub.disclosure.cells.protect_counts`, with the total). Every suppressed cell carries
its reason. Finally every published count, totals included, is rounded to the nearest
multiple of the rounding base (halves up) — except that a count is never shown below
``min_cell``: one that would round below it is rounded up to the first multiple at or
above it, so the rounded table still passes the airlock's small-cell check. Totals are
rounded on their own, so rounded cells need not add up to the rounded totals.

The result's :meth:`ProtectedTable.csv` is the airlock's ``frequency`` format
(:mod:`hub.disclosure.outputs`): suppressed cells are ``*``, margins always published.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from hub.disclosure.cells import Suppression, protect_counts, protect_table

SUPPRESSED_MARK: Final = "*"
TOTAL_LABEL: Final = "Total"
#: As the airlock reads margins (hub.disclosure.outputs).
_TOTAL_LABELS: Final = frozenset({"total", "all", "overall"})
_COUNT = re.compile(r"^[0-9]+(\.0*)?$")
_MARK = re.compile(r"^(\*|c|s|x|suppressed|<\s*[0-9]+)$", re.IGNORECASE)
#: No count above this (a population, not an overflow).
MAX_COUNT: Final = 10**12
ONE_WAY_COMPLEMENT: Final = ("complementary: with a single cell suppressed, the total "
                             "would give it away by subtraction")
CellStatus = Literal["published", "primary", "complementary"]


class TableError(ValueError):
    """The table cannot be protected; ``code`` is the API's error code."""

    def __init__(self, message: str, *, code: str = "bad_table") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CountsTable:
    """Interior counts (no margins): R × C for a 2-D table, R for a 1-D one."""

    label_header: str
    row_labels: list[str]
    column_labels: list[str]
    counts: np.ndarray
    had_margins: bool

    @property
    def one_way(self) -> bool:
        return bool(self.counts.ndim == 1)


@dataclass(frozen=True)
class Cell:
    """One published or suppressed cell of the protected table."""

    value: int | None
    status: CellStatus
    reason: str | None


@dataclass(frozen=True)
class ProtectedTable:
    """The protected table with margins: ``cells`` is a row per row label (the totals row
    last), a cell per column label (the totals column last)."""

    label_header: str
    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[Cell]]
    one_way: bool
    rounded: bool

    def count(self, status: CellStatus) -> int:
        return sum(c.status == status for row in self.cells for c in row)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([self.label_header, *self.column_labels])
        for label, row in zip(self.row_labels, self.cells, strict=True):
            writer.writerow([label, *(SUPPRESSED_MARK if c.value is None else c.value
                                      for c in row)])
        return out.getvalue()


def _is_total(label: str) -> bool:
    return label.strip().lower() in _TOTAL_LABELS


def _count(text: str, where: str) -> int:
    text = text.strip().replace(",", "")
    if _MARK.match(text):
        raise TableError(f"{where} is already suppressed: send the unprotected counts, the "
                         "hub suppresses them", code="already_suppressed")
    if text.startswith("-") and _COUNT.match(text[1:]):
        raise TableError(f"{where} is negative: counts are 0 or more")
    if not _COUNT.match(text):
        raise TableError(f"{where} is not a whole count")
    value = int(float(text)) if "." in text else int(text)
    if value > MAX_COUNT:
        raise TableError(f"{where} is larger than {MAX_COUNT}")
    return value


def _rows(csv_text: str) -> list[list[str]]:
    try:
        rows = list(csv.reader(io.StringIO(csv_text)))
    except csv.Error as exc:
        raise TableError(f"not a readable CSV table ({exc})") from None
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if len(rows) < 2 or len(rows[0]) < 2:
        raise TableError("the table needs a header, at least one row and two columns")
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise TableError(f"line {number} has {len(row)} fields, the header {width}: "
                             "every row needs a label and one count per column",
                             code="ragged_table")
    return rows


def _distinct(labels: list[str], where: str) -> None:
    seen: set[str] = set()
    for number, label in enumerate(labels, start=2):
        if not label:
            raise TableError(f"the label at {where} {number} is empty")
        if label in seen:
            raise TableError(f"the label at {where} {number} repeats an earlier one")
        seen.add(label)


def parse_counts(csv_text: str, *, max_cells: int) -> CountsTable:
    """The interior counts of a CSV table; :class:`TableError` when it is not one."""
    rows = _rows(csv_text)
    header = [h.strip() for h in rows[0]]
    if (len(rows) - 1) * (len(header) - 1) > max_cells:
        raise TableError(f"the table has more than {max_cells} cells, the hub's limit",
                         code="table_too_large")
    labels = [r[0].strip() for r in rows[1:]]
    _distinct(labels, "line")
    _distinct(header[1:], "column")
    total_rows = [i for i, label in enumerate(labels) if _is_total(label)]
    total_cols = [j for j, name in enumerate(header[1:]) if _is_total(name)]
    if len(total_rows) > 1 or len(total_cols) > 1:
        raise TableError("the table has more than one totals row or column")
    grid = np.array([[_count(cell, f"the cell at line {i + 2}, column {j + 2}")
                      for j, cell in enumerate(row[1:])] for i, row in enumerate(rows[1:])],
                    dtype=np.int64)
    keep_r = [i for i in range(len(labels)) if i not in total_rows]
    keep_c = [j for j in range(len(header) - 1) if j not in total_cols]
    if not keep_r or not keep_c:
        raise TableError("the table has totals but no counts")
    interior = grid[np.ix_(keep_r, keep_c)]
    for j in total_cols:
        for i in keep_r:
            if grid[i, j] != grid[i, keep_c].sum():
                raise TableError(f"the total at line {i + 2} is not the sum of its row",
                                 code="margins_mismatch")
    for i in total_rows:
        for j in [*keep_c, *total_cols]:
            if grid[i, j] != grid[keep_r, j].sum():
                raise TableError(f"the total at column {j + 2} is not the sum of its "
                                 "column", code="margins_mismatch")
    row_labels = [labels[i] for i in keep_r]
    column_labels = [header[j + 1] for j in keep_c]
    margins = bool(total_rows or total_cols)
    if len(column_labels) == 1:
        return CountsTable(header[0], row_labels, column_labels, interior[:, 0], margins)
    if len(row_labels) == 1:  # one row of counts: the same 1-D table, as a column
        return CountsTable(header[0] or "group", column_labels, row_labels, interior[0, :],
                           margins)
    return CountsTable(header[0], row_labels, column_labels, interior, margins)


def _round(value: int, base: int, min_cell: int) -> int:
    if base <= 1 or value == 0:
        return value
    rounded = (2 * value + base) // (2 * base) * base  # nearest multiple, halves up
    if rounded < min_cell:
        rounded = -(-min_cell // base) * base
    return rounded


def _primary_reason(value: int, min_cell: int) -> str:
    if value == 0:
        return "primary: a zero count (this project's policy suppresses zeros)"
    return f"primary: a count below {min_cell}"


def _complement_reason(names: list[str]) -> str:
    if not names:
        return ("complementary: hides the other suppressed cells from recovery by "
                "subtraction from the totals")
    return (f"complementary: without it the suppressed cell{'s' if len(names) > 1 else ''} "
            f"of {' and '.join(names)} could be recovered by subtraction from the totals")


def _cells(values: np.ndarray, result: Suppression, reasons: list[list[str]], *,
           min_cell: int, base: int) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for i in range(values.shape[0]):
        row = []
        for j in range(values.shape[1]):
            value = int(values[i, j])
            if result.primary[i, j]:
                row.append(Cell(None, "primary", _primary_reason(value, min_cell)))
            elif result.complementary[i, j]:
                row.append(Cell(None, "complementary", reasons[i][j]))
            else:
                row.append(Cell(_round(value, base, min_cell), "published", None))
        rows.append(row)
    return rows


def _two_way_reasons(suppressed: np.ndarray, rows: list[str],
                     cols: list[str]) -> list[list[str]]:
    """Per cell, the reason it would be a complement: the lines through it that hold
    another suppressed cell."""
    out = []
    for i in range(suppressed.shape[0]):
        line = []
        for j in range(suppressed.shape[1]):
            names = []
            if int(suppressed[i, :].sum()) > 1:
                names.append(f"row {rows[i]!r}")
            if int(suppressed[:, j].sum()) > 1:
                names.append(f"column {cols[j]!r}")
            line.append(_complement_reason(names))
        out.append(line)
    return out


def protect(table: CountsTable, *, min_cell: int, rounding_base: int,
            suppress_zeros: bool) -> ProtectedTable:
    """Suppress (primary, complementary) and round ``table`` as described above."""
    rows = [*table.row_labels, TOTAL_LABEL]
    if table.one_way:
        counts = table.counts
        inner = protect_counts(counts, threshold=min_cell, suppress_zeros=suppress_zeros)
        total = int(counts.sum())
        small_total = (0 < total < min_cell) or (total == 0 and suppress_zeros)
        values = np.append(counts, total).reshape(-1, 1)
        primary = np.append(inner.primary, small_total).reshape(-1, 1)
        complementary = np.append(inner.complementary, False).reshape(-1, 1)
        result = Suppression(values=values, primary=primary, complementary=complementary)
        reasons = [[ONE_WAY_COMPLEMENT] for _ in range(values.shape[0])]
        cols = list(table.column_labels)
    else:
        result = protect_table(table.counts, threshold=min_cell,
                               suppress_zeros=suppress_zeros)
        values = result.values
        cols = [*table.column_labels, TOTAL_LABEL]
        reasons = _two_way_reasons(result.suppressed, rows, cols)
    cells = _cells(values, result, reasons, min_cell=min_cell, base=rounding_base)
    return ProtectedTable(label_header=table.label_header, row_labels=rows,
                          column_labels=cols, cells=cells, one_way=table.one_way,
                          rounded=rounding_base > 1)
