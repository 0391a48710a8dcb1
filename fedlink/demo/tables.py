"""What the researcher received: each table of the downloaded extract, read from the files
``fedlink extract download`` unpacked into ``DIR/researcher/<extract id>/``.

For every ``agency_<CODE>`` table: its grain as the bundle's data dictionary states it, its
rows, its persons (distinct ``person_id``) and, for a person × period table, its distinct
periods — so the summary can say "K12: 212 persons × 15 school years (1,210 rows)". It
reads only what the researcher holds; nothing here looks inside a node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: The period kinds of the dictionary's grain, as the summary words them (plural).
_KIND_WORDS = {"school_year": "school years", "term": "terms", "quarter": "quarters",
               "year": "years", "date": "dates"}


@dataclass(frozen=True)
class TableShape:
    """One table of the extract as the researcher reads it."""

    name: str
    grain: str
    rows: int
    persons: int
    periods: int  # distinct values of its ``period`` column; 0 when it has none
    kinds: tuple[str, ...]  # the period kinds the grain names (``school_year``…)

    @property
    def longitudinal(self) -> bool:
        return self.periods > 0

    def preview(self) -> str:
        """``212 persons × 15 school years (1,210 rows)`` or ``212 persons (212 rows)``."""
        if not self.longitudinal:
            return f"{self.persons:,} persons ({self.rows:,} rows)"
        word = " and ".join(_KIND_WORDS.get(k, k) for k in self.kinds) or "periods"
        return f"{self.persons:,} persons × {self.periods:,} {word} ({self.rows:,} rows)"


def _read(tables: Path, name: str) -> pd.DataFrame | None:
    parquet, csv = tables / f"{name}.parquet", tables / f"{name}.csv"
    if parquet.is_file():
        return pd.read_parquet(parquet)
    if csv.is_file():
        return pd.read_csv(csv, dtype=str, keep_default_na=False)
    return None


def _kinds(grain: str) -> tuple[str, ...]:
    """``one row per person and period (school_year)`` → ``("school_year",)``."""
    if "(" not in grain or not grain.endswith(")"):
        return ()
    inside = grain[grain.rindex("(") + 1:-1]
    return tuple(k.strip() for k in inside.split(",") if k.strip())


def agency_tables(extract_dir: Path, codes: list[str]) -> dict[str, TableShape]:
    """``{code: TableShape}`` of each agency table found in an unpacked extract."""
    dictionary = json.loads((extract_dir / "data_dictionary.json").read_text(encoding="utf-8"))
    grains = {row["table"]: str(row.get("grain") or "") for row in dictionary}
    shapes: dict[str, TableShape] = {}
    for code in codes:
        name = f"agency_{code}"
        frame = _read(extract_dir / "tables", name)
        if frame is None:
            continue
        grain = grains.get(name, "")
        periods = int(frame["period"].nunique()) if "period" in frame.columns else 0
        shapes[code] = TableShape(name, grain, len(frame), int(frame["person_id"].nunique()),
                                  periods, _kinds(grain) if periods else ())
    return shapes
