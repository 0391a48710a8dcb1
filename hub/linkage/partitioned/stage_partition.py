"""Stage 1, *partition*: one chunk of an agency's landed file → token partitions and
comparison columns.

Each key column's tokens (``hi``, ``lo``, global row) are split by a hash of the token into
the run's partitions, so every block of every key column lies whole inside one partition
and no candidate pair is lost at a partition edge. The Bloom filters, their presence and
popcounts, and which rows emitted each rule go straight into the agency's comparison
columns (preallocated ``.npy`` files; chunks write disjoint rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from hub.linkage.partitioned.layout import RunPlan, save_arrays, write_rows
from hub.linkage.tokens import BloomColumn, _bloom_column, _raw_tokens


def token_partition(hi: np.ndarray, partitions: int) -> np.ndarray:
    """The partition of each token, from its first word: a token is a PRF output (keyed
    BLAKE2b, or AES for the dummies: ``protocol.tokens``), uniform in every bit, so its
    remainder spreads the tokens evenly without mixing them again."""
    # uint16: NumPy's stable sort of 16-bit keys is a radix sort (linear).
    return (hi.view(np.uint64) % np.uint64(partitions)).astype(np.uint16)


def read_batches(path: str, lo: int, hi: int) -> pa.Table:
    """Record batches ``lo..hi-1`` of a landed Arrow IPC file, memory-mapped."""
    reader = pa.ipc.open_file(pa.memory_map(path))
    return pa.Table.from_batches([reader.get_batch(i) for i in range(lo, hi)],
                                 schema=reader.schema)


def partition_chunk(spec: dict[str, Any]) -> dict[str, Any]:
    """Spec: ``workdir``, ``agency`` (index), ``batch_lo``, ``batch_hi``, ``chunk``."""
    plan = RunPlan.load(spec["workdir"])
    agency_index = spec["agency"]
    agency = plan.agencies[agency_index]
    table = read_batches(agency.path, spec["batch_lo"], spec["batch_hi"])
    row0 = agency.batch_rows[spec["batch_lo"]]
    n = table.num_rows
    tokens = 0
    for k, name in enumerate(plan.keys):
        if name not in table.column_names:
            continue  # all-missing here: emitted stays False, no tokens
        hi, lo, parents = _raw_tokens(table.column(name), f"{agency.name}.{name}")
        write_rows(plan.column(agency_index, f"emitted-{k}"), row0,
                   np.bincount(parents, minlength=n) > 0)
        rows = parents + row0
        part = token_partition(hi, plan.partitions)
        order = np.argsort(part, kind="stable")  # row order kept inside each partition
        bounds = np.searchsorted(part[order], np.arange(plan.partitions + 1))
        for p in range(plan.partitions):
            take = order[bounds[p] : bounds[p + 1]]
            if len(take):
                save_arrays(plan.token_part(agency_index, k, p, spec["chunk"]),
                            hi=hi[take], lo=lo[take], rows=rows[take])
        tokens += len(hi)
    valid_counts = {}
    for name in plan.blooms:
        if name not in table.column_names:
            continue
        column = _bloom_column(table.column(name), f"{agency.name}.{name}")
        width = plan.bloom_widths[name]
        if column.bits.shape[1] != width:
            column = _widen(column, width)
        for suffix, values in (("bits", column.bits), ("valid", column.valid),
                               ("ones", column.ones)):
            write_rows(plan.column(agency_index, f"{name}.{suffix}"), row0, values)
        valid_counts[name] = int(column.valid.sum())
    return {"agency": agency_index, "rows": n, "tokens": tokens, "valid": valid_counts}


def _widen(column: BloomColumn, width: int) -> BloomColumn:
    """Filters narrower than another agency's (a differently configured node) padded with
    zero bytes: they then compare as they would in memory, where the widths differ too."""
    bits = np.zeros((len(column.bits), width), dtype=np.uint8)
    bits[:, : column.bits.shape[1]] = column.bits
    return BloomColumn(bits=bits, valid=column.valid, ones=column.ones)
