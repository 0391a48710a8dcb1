"""The hub at the size of a large state: the partitioned engine on 1M, 3M and 10M records a
side, and the same run with 1, 2 and 4 local workers (``docs/scaling.md``).

:func:`link_partitioned` runs in a fresh process: it links the prepared token files with
:func:`hub.linkage.partitioned.link_files` on a local Dask cluster of ``workers`` processes,
times the call, and takes the peak resident set size of every process — its own, each
worker's (measured inside the worker after every task), and, once the cluster is closed,
the largest of all its descendants (``RUSAGE_CHILDREN``: nannies and workers) — and only
then scores the result against the truth.
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from fedlink.bench.scale import CHUNK_RECORDS, SIDES, cache_path
from fedlink.bench.worker import peak_rss_bytes, stage
from hub.linkage import LinkageConfig
from hub.linkage.evaluate import pairwise_scores
from hub.linkage.partitioned import ScaleOptions, link_files


def derive_prefix(spec: dict[str, Any]) -> dict[str, Any] | None:
    """A cache of ``size`` records a side cut from a larger prepared cache of the same seed
    and encodings, when one exists: above a million a side the sides are independent
    populations of a million each (``population_chunks``), so the first ``size`` rows of
    a larger cache are exactly what preparing ``size`` would make. None if there is none."""
    size, seed = int(spec["size"]), int(spec["seed"])
    if size <= CHUNK_RECORDS or size % CHUNK_RECORDS:
        return None
    out = cache_path(spec["cache_dir"], size, seed)
    prefix = out.name.split("-seed")[1]
    larger = sorted(
        (p for p in Path(spec["cache_dir"]).glob(f"scale-*-seed{prefix}")
         if (p / "done.json").exists() and int(p.name.split("-")[1]) > size),
        key=lambda p: int(p.name.split("-")[1]))
    if not larger:
        return None
    source = larger[0]
    stage(f"cut {size:,} a side from {source.name}")
    out.mkdir(parents=True, exist_ok=True)
    for name in SIDES:
        reader = pa.ipc.open_file(pa.memory_map(str(source / f"{name}.arrow")))
        with pa.OSFile(str(out / f"{name}.arrow"), "wb") as sink, \
                pa.ipc.new_file(sink, reader.schema) as writer:
            written = 0
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                take = min(batch.num_rows, size - written)
                writer.write_batch(batch.slice(0, take))
                written += take
                if written >= size:
                    break
        truth = pd.read_parquet(source / f"{name}-truth.parquet")
        truth.iloc[:size].to_parquet(out / f"{name}-truth.parquet", index=False)
    (out / "done.json").write_text(f'{{"size": {size}, "seed": {seed}, "from": '
                                   f'"{source.name}"}}\n')
    return {"size": size, "seed": seed, "dir": str(out), "cached": False,
            "derived_from": source.name}


def prepare_ladder(spec: dict[str, Any]) -> dict[str, Any]:
    """:func:`fedlink.bench.scale.prepare`, or a cut of a larger cache when there is one."""
    from fedlink.bench.scale import prepare

    done = cache_path(spec["cache_dir"], int(spec["size"]), int(spec["seed"])) / "done.json"
    if not done.exists():
        derived = derive_prefix(spec)
        if derived is not None:
            return derived
    return prepare(spec)


def link_partitioned(spec: dict[str, Any]) -> dict[str, Any]:
    """Spec: ``dir`` (a prepared cache), ``workers``; optional ``work_dir``."""
    root = Path(spec["dir"])
    paths = {name: root / f"{name}.arrow" for name in SIDES}
    work = Path(tempfile.mkdtemp(prefix="fedlink-bench-", dir=spec.get("work_dir")))
    options = ScaleOptions(engine="partitioned", scheduler="local",
                           workers=int(spec["workers"]), workdir=str(work))
    last = [""]

    def progress(name: str, completed: int, total: int) -> None:
        if name != last[0] or completed == total:
            stage(f"{name} {completed}/{total}")
            last[0] = name

    try:
        started = time.perf_counter()
        result = link_files(paths, LinkageConfig(), options, progress)
        link_s = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    driver = peak_rss_bytes()
    descendants = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    partitions = result.report["partitions"]
    workers = partitions["worker_peak_rss_bytes"]
    stage("score")
    truth = pd.concat(
        [pd.read_parquet(root / f"{n}-truth.parquet").assign(agency=n) for n in SIDES],
        ignore_index=True)
    clusters = result.clusters.to_pandas().merge(truth, on=["agency", "pid"], how="left")
    scores = pairwise_scores(clusters, source="agency")
    by_stage: dict[str, list[float]] = {}
    for task in partitions["tasks"]:
        by_stage.setdefault(task["stage"], []).append(task["seconds"])
    return {
        "records": {n: int(result.report["summary"]["records"]) // 2 for n in SIDES},
        "workers": int(spec["workers"]),
        "seconds": {"link": link_s},
        "engine_timings": result.report["timings"],
        "task_seconds": {k: {"tasks": len(v), "sum": round(sum(v), 3),
                             "max": round(max(v), 3)} for k, v in by_stage.items()},
        "partitions_per_key": partitions["partitions_per_key"],
        "slice_rows": partitions["slice_rows"],
        "candidates": result.report["summary"]["candidates"],
        "peak_rss_bytes": max([driver, descendants, *workers.values()]),
        "driver_peak_rss_bytes": driver,
        "worker_peak_rss_bytes": sorted(workers.values(), reverse=True),
        "descendants_peak_rss_bytes": descendants,
        "pairs": [s.as_dict() for s in scores if s.left != "*"],
    }
