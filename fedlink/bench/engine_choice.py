"""Dask, Ray or Spark under the partitioned engine: the same run, the same tasks, each engine's
local cluster of ``workers`` processes (``docs/scaling.md``, "Why Dask").

``python -m fedlink.bench.engine_choice DIR [WORKERS]`` links the prepared tables in
``DIR`` (a ``fedlink bench`` scale cache) once on each engine installed here and prints,
per engine: the cluster's start-up time, the run's wall time and stage times, and the
size of the engine's installed packages. Ray and Spark are not dependencies of Fedlink:
install them beside the hub extra to measure them (``pip install ray pyspark``; Spark also
needs a Java runtime); an engine not installed is reported as such.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hub.linkage import LinkageConfig
from hub.linkage.config import ProgressCallback
from hub.linkage.partitioned import ScaleOptions, link_files
from hub.linkage.partitioned.executor import DaskExecutor, Executor, Task, timed

SIDES = ("k12", "workforce")


class RayExecutor(Executor):
    """The engine's tasks as Ray remote functions on a local Ray cluster."""

    def __init__(self, workers: int) -> None:
        import ray

        self._ray = ray
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        self._remote = ray.remote(num_cpus=1, max_retries=1)(timed)
        self.description = f"ray local ({workers} processes)"
        self.workers = workers

    def run(self, stage: str, task: Task, specs: Sequence[dict[str, Any]],
            progress: ProgressCallback) -> list[dict[str, Any]]:
        progress(stage, 0, len(specs))
        refs = [self._remote.remote(task, spec) for spec in specs]
        pending, done = list(refs), 0
        while pending:
            ready, pending = self._ray.wait(pending, num_returns=1)
            done += len(ready)
            progress(stage, done, len(specs))
        return list(self._ray.get(refs))

    def __exit__(self, *exc: object) -> None:
        self._ray.shutdown()


class SparkExecutor(Executor):
    """The engine's tasks as a Spark job of one partition per task, on ``local[workers]``
    (Spark's own local cluster; it needs a Java runtime)."""

    def __init__(self, workers: int) -> None:
        from pyspark.sql import SparkSession

        # Spark's Python workers run this interpreter (the one holding Fedlink's tasks).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        self._session = (SparkSession.builder.master(f"local[{workers}]")
                         .appName("fedlink-engine-choice")
                         .config("spark.ui.enabled", "false")
                         .config("spark.python.worker.reuse", "true").getOrCreate())
        self._session.sparkContext.setLogLevel("ERROR")
        self.description = f"spark local[{workers}]"
        self.workers = workers

    def run(self, stage: str, task: Task, specs: Sequence[dict[str, Any]],
            progress: ProgressCallback) -> list[dict[str, Any]]:
        progress(stage, 0, len(specs))
        context = self._session.sparkContext
        rdd = context.parallelize(list(specs), numSlices=max(1, len(specs)))
        out = rdd.map(lambda spec: timed(task, spec)).collect()
        progress(stage, len(specs), len(specs))
        return list(out)

    def __exit__(self, *exc: object) -> None:
        self._session.stop()


def _package_bytes(names: Sequence[str]) -> int:
    """Bytes installed by the named distributions (their own files, not dependencies)."""
    total = 0
    for name in names:
        for file in importlib.metadata.distribution(name).files or ():
            path = Path(str(file.locate()))
            if path.is_file():
                total += path.stat().st_size
    return total


def measure(directory: Path, workers: int,
            only: Sequence[str] = ("dask", "ray", "spark")) -> dict[str, Any]:
    paths = {side: directory / f"{side}.arrow" for side in SIDES}
    options = ScaleOptions(engine="partitioned", workers=workers)
    out: dict[str, Any] = {}
    engines = {"dask": (lambda: DaskExecutor(options), ("dask", "distributed")),
               "ray": (lambda: RayExecutor(workers), ("ray",)),
               "spark": (lambda: SparkExecutor(workers), ("pyspark",))}
    for name, (make, packages) in engines.items():
        if name not in only:
            continue
        try:
            installed = _package_bytes(packages)
        except importlib.metadata.PackageNotFoundError:
            out[name] = {"status": "not installed"}
            continue
        started = time.perf_counter()
        with make() as executor:
            ready = time.perf_counter() - started
            begun = time.perf_counter()
            result = link_files(paths, LinkageConfig(), options, executor=executor)
            wall = time.perf_counter() - begun
        out[name] = {"status": "ok", "startup_seconds": round(ready, 2),
                     "link_seconds": round(wall, 2), "timings": result.report["timings"],
                     "links": result.report["summary"]["links"],
                     "installed_mb": round(installed / 1e6, 1)}
    return out


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 3:
        print("usage: python -m fedlink.bench.engine_choice DIR [WORKERS [dask,ray,spark]]",
              file=sys.stderr)
        return 2
    workers = int(argv[1]) if len(argv) > 1 else 2
    only = argv[2].split(",") if len(argv) > 2 else ("dask", "ray", "spark")
    print(json.dumps(measure(Path(argv[0]), workers, only), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
