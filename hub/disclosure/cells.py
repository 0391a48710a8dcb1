"""Small-cell suppression with complementary suppression for aggregate outputs.

**Primary suppression.** A count ``0 < n < threshold`` (default 10) is suppressed; zeros are
published unless ``suppress_zeros`` (a zero can be disclosive — "nobody in this school
failed" — when the group is known; most agencies publish them).

**Complementary suppression, 2-D tables with margins.** The table is published with its
row totals, column totals and grand total, so each *line* (a row with its total, a column
with its total, the totals row, the totals column) is an equation. A line with exactly one
suppressed cell gives that cell away by subtraction. So, until stable:

1. take the first line (rows top to bottom, then columns left to right) that has exactly
   one suppressed cell, and suppress its smallest other cell — interior cells before
   totals, the grand total last, a non-zero cell before a zero (a zero complement protects
   nothing when the zero is known to be structural), a cell whose crossing line already
   holds a suppressed cell before one that would leave that line with a lone suppression
   (one complement then closes two lines instead of starting a cascade), then the smallest
   value, then the position;
2. when every line has zero or at least two suppressed cells, audit the pattern exactly:
   a suppressed cell can be recovered from the line equations if and only if it is a
   *bridge* of the bipartite graph whose nodes are the lines and whose edges are the
   suppressed cells (Gusfield 1988: a cell lying on a cycle can be moved by +x/−x around
   the cycle without changing any total). For the first bridge found, suppress the
   smallest (same order as above) cell that closes a cycle through it — a cell joining the
   two sides the bridge separates — and go back to 1.

The loop ends because every pass suppresses one more cell. **Limits**: this prevents
*exact* recovery from the published lines; it is not a linear-programming audit of the
*range* a suppressed cell can take (an intruder may still bound a cell, e.g. to [0, 9]
when its complements are large), and it knows only the lines of this one table — the same
counts published in another table with other margins need the tables checked together.

**1-D tables** (counts by one grouping with a total) are a single line: if exactly one cell
is suppressed, the smallest other (non-zero first) is suppressed too. **Means by group**
with their counts and an overall mean are protected through their counts: a group's mean
is suppressed with its count, because ``overall × N − Σ others`` recovers a lone group's sum.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

import numpy as np

DEFAULT_THRESHOLD: Final = 10


@dataclass(frozen=True)
class Suppression:
    """A protected table: ``values`` (with margins for 2-D), and which cells are
    suppressed as ``primary`` (small) or ``complementary`` (to protect the primary ones)."""

    values: np.ndarray
    primary: np.ndarray
    complementary: np.ndarray

    @property
    def suppressed(self) -> np.ndarray:
        return self.primary | self.complementary

    def published(self) -> list[list[int | None]] | list[int | None]:
        """The values as they may be released: ``None`` where suppressed."""
        values, hidden = self.values.tolist(), self.suppressed.tolist()
        if self.values.ndim == 2:
            return [[None if h else int(v) for v, h in zip(row, mask, strict=True)]
                    for row, mask in zip(values, hidden, strict=True)]
        return [None if h else int(v) for v, h in zip(values, hidden, strict=True)]


def _primary(values: np.ndarray, threshold: int, suppress_zeros: bool) -> np.ndarray:
    low = 0 if suppress_zeros else 1
    mask: np.ndarray = (values >= low) & (values < threshold)
    return mask


def _order_key(values: np.ndarray, suppressed: np.ndarray, cell: tuple[int, int],
               crossing: np.ndarray | None = None) -> tuple[bool, bool, bool, bool, int, int, int]:
    """Preference among complementary candidates (smallest first); ``crossing`` is the
    line through ``cell`` other than the one being closed."""
    rows, cols = values.shape
    i, j = cell
    grand = i == rows - 1 and j == cols - 1
    margin = i == rows - 1 or j == cols - 1
    value = int(values[i, j])
    opens_line = crossing is not None and not bool(crossing.any())
    return (grand, margin, value == 0, opens_line, value, i, j)


def with_margins(counts: np.ndarray) -> np.ndarray:
    """``counts`` (R × C) with a totals column and a totals row appended."""
    counts = np.asarray(counts, dtype=np.int64)
    body = np.column_stack([counts, counts.sum(axis=1)])
    return np.vstack([body, body.sum(axis=0)])


def _lines(shape: tuple[int, int]) -> list[list[tuple[int, int]]]:
    rows, cols = shape
    return ([[(i, j) for j in range(cols)] for i in range(rows)]
            + [[(i, j) for i in range(rows)] for j in range(cols)])


def _cells(mask: np.ndarray) -> list[tuple[int, int]]:
    return [(int(i), int(j)) for i, j in np.argwhere(mask)]


def bridges(suppressed: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells of a table with margins that the line equations give away exactly
    (bridges of the row–column graph of suppressed cells), in row-major order."""
    cells = _cells(suppressed)
    found = []
    for cell in cells:
        others = [c for c in cells if c != cell]
        if not _connected(others, ("r", cell[0]), ("c", cell[1])):
            found.append(cell)
    return found


def _component(cells: list[tuple[int, int]], start: tuple[str, int]) -> set[tuple[str, int]]:
    adjacent: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for i, j in cells:
        adjacent.setdefault(("r", i), []).append(("c", j))
        adjacent.setdefault(("c", j), []).append(("r", i))
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in adjacent.get(queue.popleft(), []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _connected(cells: list[tuple[int, int]], a: tuple[str, int], b: tuple[str, int]) -> bool:
    return b in _component(cells, a)


def _close_cycle(values: np.ndarray, suppressed: np.ndarray,
                 bridge: tuple[int, int]) -> tuple[int, int] | None:
    cells = [c for c in _cells(suppressed) if c != bridge]
    side_a = _component(cells, ("r", bridge[0]))
    side_b = _component(cells, ("c", bridge[1]))
    candidates = [
        (i, j) for i in range(values.shape[0]) for j in range(values.shape[1])
        if not suppressed[i, j] and (
            (("r", i) in side_a and ("c", j) in side_b)
            or (("r", i) in side_b and ("c", j) in side_a))
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: _order_key(values, suppressed, c))


def protect_table(counts: np.ndarray, *, threshold: int = DEFAULT_THRESHOLD,
                  suppress_zeros: bool = False) -> Suppression:
    """Protect a 2-D table of counts (R × C, without margins; the margins are added)."""
    values = with_margins(counts)
    primary = _primary(values, threshold, suppress_zeros)
    suppressed = primary.copy()
    lines = _lines(values.shape)
    while True:
        lone = next((n for n, line in enumerate(lines)
                     if sum(bool(suppressed[c]) for c in line) == 1), None)
        if lone is not None:
            is_row = lone < values.shape[0]
            free = [c for c in lines[lone] if not suppressed[c]]
            if free:
                pick = min(free, key=lambda c: _order_key(
                    values, suppressed, c,
                    suppressed[:, c[1]] if is_row else suppressed[c[0], :]))
                suppressed[pick] = True
                continue
        exposed = bridges(suppressed)
        pick_bridge = None
        for cell in exposed:
            pick_bridge = _close_cycle(values, suppressed, cell)
            if pick_bridge is not None:
                break
        if pick_bridge is None:
            break
        suppressed[pick_bridge] = True
    return Suppression(values=values, primary=primary, complementary=suppressed & ~primary)


def protect_counts(counts: np.ndarray, *, threshold: int = DEFAULT_THRESHOLD,
                   suppress_zeros: bool = False) -> Suppression:
    """Protect a 1-D table of counts published with its total (the total is not part of
    ``counts`` and never suppressed unless it is itself small)."""
    values = np.asarray(counts, dtype=np.int64)
    primary = _primary(values, threshold, suppress_zeros)
    suppressed = primary.copy()
    if int(suppressed.sum()) == 1:
        free = [int(i) for i in np.flatnonzero(~suppressed)]
        if free:
            pick = min(free, key=lambda i: (values[i] == 0, values[i], i))
            suppressed[pick] = True
    return Suppression(values=values, primary=primary, complementary=suppressed & ~primary)


def protect_means(counts: np.ndarray, means: np.ndarray, *,
                  threshold: int = DEFAULT_THRESHOLD) -> tuple[Suppression, list[float | None]]:
    """Protect means by group published with each group's count and an overall mean: the
    counts as a 1-D table, and every mean whose count is suppressed."""
    protected = protect_counts(counts, threshold=threshold, suppress_zeros=True)
    released = [None if hidden else float(m)
                for m, hidden in zip(np.asarray(means, dtype=float), protected.suppressed,
                                     strict=True)]
    return protected, released
