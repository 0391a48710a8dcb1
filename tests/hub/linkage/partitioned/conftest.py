"""Factories for the partitioned engine's tests: token tables landed as Arrow IPC files."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pyarrow as pa
import pytest


def land(tables: Mapping[str, pa.Table], root: Path, batch_rows: int = 97) -> dict[str, Path]:
    """Write each table as a landed token file (small record batches, as a node's stream
    arrives) and return agency → path."""
    paths = {}
    for name, table in tables.items():
        path = root / f"{name}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=batch_rows)
        paths[name] = path
    return paths


@pytest.fixture
def landed(tmp_path: Path) -> Callable[..., dict[str, Path]]:
    """Factory: agency → token table, landed in a fresh directory."""
    counter = iter(range(1_000_000))

    def make(tables: Mapping[str, pa.Table], batch_rows: int = 97) -> dict[str, Path]:
        root = tmp_path / f"landed-{next(counter)}"
        root.mkdir()
        return land(tables, root, batch_rows)

    return make


@pytest.fixture
def three_agencies(linkage_population, token_table) -> dict[str, pa.Table]:
    """Three agencies' token tables of one population (a third with more errors)."""
    a, b = linkage_population(n_people=400, seed=11)
    c, _ = linkage_population(n_people=400, seed=11, rate=0.08)
    c = [dict(r, record_id=f"C{i}") for i, r in enumerate(c)]
    return {"k12": token_table(a), "workforce": token_table(b), "highered": token_table(c)}
