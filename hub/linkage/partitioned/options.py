"""How a run is partitioned and where its tasks run: :class:`ScaleOptions`.

The hub maps its ``linkage_*`` settings onto these (``docs/scaling.md``); ``fedlink link``
and the benchmark build them directly. :func:`plan_sizes` turns "auto" (0) into numbers
from the input's size and the memory a worker may use.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Literal

from hub.linkage.config import LinkageError

#: Bytes a bucket task holds per record of each of its two row slices: the comparison
#: columns it touches (18 Bloom filters with their popcounts and flags, the shared tokens
#: of every key column and their offsets, about 600 B at the protocol's defaults) with
#: headroom for the gathered rows of a chunk of pairs. Measured, docs/scaling.md.
BYTES_PER_SLICE_RECORD = 1_000
#: Token entries (20 B each, a few per record and key) a block task may hold at once.
TOKENS_PER_PARTITION = 20_000_000
SCHEDULERS_LOCAL = ("local", "serial")
#: Below this a slice costs more to load than to compare.
MIN_SLICE_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class ScaleOptions:
    """Where and how the partitioned engine runs.

    ``engine``: ``"memory"`` always links in one process (:func:`hub.linkage.link`),
    ``"partitioned"`` always partitions, ``"auto"`` partitions above
    ``memory_max_records`` records in all (below that the in-memory engine is faster and
    small enough). ``scheduler``: ``"local"`` starts a ``dask.distributed.LocalCluster``
    of ``workers`` processes for the run, ``"serial"`` runs every task in this process
    (tests, debugging), and a ``tcp://`` or ``tls://`` address uses that running Dask
    scheduler — whose workers must see ``workdir`` at the same path. ``workers``: 0 = one
    per CPU. ``worker_memory_gb``: what one task may hold; it sets the row slices.
    ``partitions``, ``slice_rows``: 0 = sized from the input (:func:`plan_sizes`).
    ``workdir``: where the run's partition files go ("" = a temporary directory, which a
    remote scheduler's workers cannot see).
    """

    engine: Literal["auto", "memory", "partitioned"] = "auto"
    memory_max_records: int = 3_000_000
    scheduler: str = "local"
    workers: int = 0
    worker_memory_gb: float = 6.0
    partitions: int = 0
    slice_rows: int = 0
    workdir: str = ""

    def __post_init__(self) -> None:
        if self.engine not in ("auto", "memory", "partitioned"):
            raise LinkageError("engine must be auto, memory or partitioned")
        if not (self.scheduler in SCHEDULERS_LOCAL
                or self.scheduler.startswith(("tcp://", "tls://"))):
            raise LinkageError("scheduler must be local, serial or a tcp:// or tls:// address")
        if self.workers < 0 or not 0 <= self.partitions <= 65_535 or self.slice_rows < 0:
            raise LinkageError(
                "workers, partitions (at most 65535) and slice_rows must be 0 (auto) or more")
        if self.worker_memory_gb <= 0 or self.memory_max_records < 0:
            raise LinkageError("worker_memory_gb must be positive")

    @property
    def remote(self) -> bool:
        return self.scheduler not in SCHEDULERS_LOCAL

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    def partitioned_for(self, records: int) -> bool:
        """Whether a run of ``records`` in all uses the partitioned engine."""
        if self.engine == "auto":
            return records > self.memory_max_records
        return self.engine == "partitioned"


@dataclass(frozen=True, slots=True)
class PlanSizes:
    """Hash partitions per key column, and rows per slice of each agency."""

    partitions: int
    slice_rows: int


def plan_sizes(options: ScaleOptions, sizes: list[int], tokens_per_record: float) -> PlanSizes:
    """Partitions so a block task holds at most :data:`TOKENS_PER_PARTITION` tokens of one
    key column (all agencies together) and at least one per worker; slices so a bucket task
    (two slices) fits ``worker_memory_gb``, and small enough that an agency pair has at
    least two buckets per worker (so no worker idles while one does the whole stage)."""
    total = sum(sizes)
    workers = options.worker_count()
    partitions = options.partitions or max(
        workers, math.ceil(total * max(tokens_per_record, 1.0) / TOKENS_PER_PARTITION))
    if options.slice_rows:
        return PlanSizes(partitions=partitions, slice_rows=options.slice_rows)
    largest = max(max(sizes, default=1), 1)
    budget = options.worker_memory_gb * 1024**3 / 2
    by_memory = max(MIN_SLICE_ROWS, int(budget / BYTES_PER_SLICE_RECORD))
    by_balance = max(MIN_SLICE_ROWS, math.ceil(largest / math.ceil(math.sqrt(2 * workers))))
    rows = min(by_memory, by_balance, largest)
    # Even slices: 10M in slices of at most 3.2M is four of 2.5M, not three and a sliver.
    return PlanSizes(partitions=partitions,
                     slice_rows=math.ceil(largest / math.ceil(largest / rows)))
