"""Stage 3, *index*: one agency's kept tokens of one key column, from every partition,
into row order — the comparison column ``key_levels`` reads (``offsets`` per row, then the
tokens' two words) — and the memory-mapped views of an agency that the bucket tasks
compare with (:func:`agency_view`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from hub.linkage.partitioned.layout import RunPlan, load_arrays, read_rows
from hub.linkage.tokens import AgencyTokens, BloomColumn, TokenColumn, stable_argsort

_EMPTY = np.zeros(0, dtype=np.int32)


def index_key(spec: dict[str, Any]) -> dict[str, Any]:
    """Spec: ``workdir``, ``agency``, ``key`` (indexes)."""
    plan = RunPlan.load(spec["workdir"])
    a, k = spec["agency"], spec["key"]
    parts = [load_arrays(plan.kept(a, k, p)) for p in range(plan.partitions)]
    hi = np.concatenate([p["hi"] for p in parts])
    lo = np.concatenate([p["lo"] for p in parts])
    rows = np.concatenate([p["rows"] for p in parts]).astype(np.int64)
    order = stable_argsort(rows)
    n = plan.agencies[a].size
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    np.save(plan.column(a, f"key-{k}.hi"), hi[order])
    np.save(plan.column(a, f"key-{k}.lo"), lo[order])
    np.save(plan.column(a, f"key-{k}.offsets"), offsets)
    return {"agency": a, "key": k, "tokens": len(hi)}


def agency_view(plan: RunPlan, a: int, lo: int, hi: int) -> AgencyTokens:
    """Rows ``lo…hi-1`` of agency ``a`` for comparison, read into memory (row ``lo`` is
    row 0 here): each column one sequential read, so a bucket task holds two slices and
    its gathers run on plain arrays, not on page faults."""
    keys = {}
    for k, name in enumerate(plan.keys):
        offsets = read_rows(plan.column(a, f"key-{k}.offsets"), lo, hi + 1)
        first, last = int(offsets[0]), int(offsets[-1])
        keys[name] = TokenColumn(
            hi=read_rows(plan.column(a, f"key-{k}.hi"), first, last),
            lo=read_rows(plan.column(a, f"key-{k}.lo"), first, last),
            rows=_EMPTY, order=_EMPTY, group_bounds=_EMPTY, offsets=offsets - first,
            emitted=read_rows(plan.column(a, f"emitted-{k}"), lo, hi),
        )
    blooms = {
        name: BloomColumn(bits=read_rows(plan.column(a, f"{name}.bits"), lo, hi),
                          valid=read_rows(plan.column(a, f"{name}.valid"), lo, hi),
                          ones=read_rows(plan.column(a, f"{name}.ones"), lo, hi))
        for name in plan.blooms
    }
    return AgencyTokens(plan.agencies[a].name, pa.nulls(hi - lo), keys, blooms)
