"""The partitioned linkage engine: bounded memory at any size, on one machine or a Dask
cluster (``docs/scaling.md``).

:func:`link_files` links agencies' landed token files partition by partition with the
in-memory engine's model and rules; :class:`ScaleOptions` says where its tasks run. The
hub's worker calls :func:`link_landed`, which picks the engine by the run's size.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from hub.linkage.config import LinkageConfig, ProgressCallback
from hub.linkage.engine import LinkageResult, link
from hub.linkage.partitioned.engine import link_files
from hub.linkage.partitioned.options import ScaleOptions


def landed_rows(path: Path) -> int:
    """Records in a landed token file (from its batch headers, no data read)."""
    reader = pa.ipc.open_file(pa.memory_map(str(path)))
    return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))


def read_landed(path: Path) -> pa.Table:
    """A landed token file as one in-memory table (one chunk per column, as the in-memory
    engine reads it in place)."""
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all().combine_chunks()


def link_landed(
    paths: Mapping[str, Path],
    config: LinkageConfig | None = None,
    options: ScaleOptions | None = None,
    progress: ProgressCallback | None = None,
) -> LinkageResult:
    """Link landed token files with the engine ``options`` choose for their size: the
    in-memory engine for small runs (faster there), the partitioned one above."""
    options = options or ScaleOptions()
    records = sum(landed_rows(p) for p in paths.values())
    if options.partitioned_for(records):
        return link_files(paths, config, options, progress)
    tables = {name: read_landed(path) for name, path in paths.items()}
    result = link(tables, config, progress)
    result.report["partitions"] = {"engine": "memory"}
    return result


__all__ = ["ScaleOptions", "landed_rows", "link_files", "link_landed", "read_landed"]
