"""The simplest attacks: the public prior, and whole-encoding frequency alignment.

- **Prior only** (the floor): every record carrying the field is guessed the most
  frequent public value.
- **Frequency alignment** (Kuzu, Kantarcioglu, Durham & Malin 2011, in its plainest
  form): distinct encodings ranked by how many records carry them, public values ranked by
  weight, the i-th encoding guessed to be the i-th value. It needs only that equal values
  give equal encodings (deterministic, field-level encodings do). Only encodings carried
  by more records than the project has agencies are ranked: up to that many copies can be
  one person seen by each agency (the same salt, the same name), so such counts say
  nothing about how common the value is, their order is arbitrary, and "aligning" them is
  a lottery of frequent names — guessing without looking, which the prior row measures.
"""

from __future__ import annotations

import numpy as np

from fedlink.attack.features import EncodedColumn, IntArray
from fedlink.attack.public import PublicTable


def record_guesses(
    column: EncodedColumn, table: PublicTable, per_encoding: IntArray
) -> dict[int, str]:
    """``{record: value}`` from a value index per distinct encoding (-1 = no guess)."""
    enc = column.record_encoding
    out: dict[int, str] = {}
    for record in np.flatnonzero(enc >= 0).tolist():
        value = int(per_encoding[enc[record]])
        if value >= 0:
            out[record] = table.values[value]
    return out


def prior_only(column: EncodedColumn, table: PublicTable) -> dict[int, str]:
    """The most frequent public value for every record carrying the column."""
    if not len(table):
        return {}
    return {int(r): table.values[0] for r in np.flatnonzero(column.record_encoding >= 0)}


def frequency_alignment(
    column: EncodedColumn, table: PublicTable, *, agencies: int = 1
) -> dict[int, str]:
    """The i-th most frequent encoding guessed to be the i-th most frequent value
    (encodings carried by more than ``agencies`` records; see the module docstring)."""
    repeated = np.flatnonzero(column.counts > agencies)
    order = repeated[np.argsort(-column.counts[repeated], kind="stable")][: len(table)]
    per_encoding = np.full(column.distinct, -1, dtype=np.int64)
    per_encoding[order] = np.arange(order.size)
    return record_guesses(column, table, per_encoding)
