"""Where the partition tasks run: in this process, on a local Dask cluster, or on a running
Dask scheduler — the same tasks, chosen by :class:`~hub.linkage.partitioned.ScaleOptions`.

A task is a module-level function of one small picklable spec (paths and numbers; the data
stays in the run's work directory) returning a small dict. :meth:`Executor.run` submits a
stage's tasks, reports progress as they finish, and returns their results in submission
order with each task's own seconds (``_seconds``), which the run's report and metrics keep.
"""

from __future__ import annotations

import os
import resource
import socket
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from hub.linkage.config import LinkageClusterError, LinkageError, ProgressCallback
from hub.linkage.partitioned.options import ScaleOptions

Task = Callable[[dict[str, Any]], dict[str, Any]]
#: How long a run waits for a configured Dask scheduler to answer.
CONNECT_SECONDS = 20


def timed(task: Task, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one task; add its wall time, its process and that process's peak resident set
    size so far (measured where it ran: mapped file pages the task touched count too)."""
    started = time.perf_counter()
    out = task(spec)
    out["_seconds"] = round(time.perf_counter() - started, 4)
    out["_process"] = f"{socket.gethostname()}:{os.getpid()}"
    out["_peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


class Executor(AbstractContextManager["Executor"]):
    """Runs a stage's tasks; :func:`open_executor` picks the kind."""

    description = "serial"
    workers = 1

    def run(self, stage: str, task: Task, specs: Sequence[dict[str, Any]],
            progress: ProgressCallback) -> list[dict[str, Any]]:
        out = []
        progress(stage, 0, len(specs))
        for i, spec in enumerate(specs):
            out.append(timed(task, spec))
            progress(stage, i + 1, len(specs))
        return out

    def __exit__(self, *exc: object) -> None:
        return None


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: a ``LocalCluster`` of worker processes started for the run,
    or the scheduler at ``address``. A task that fails fails the run (Dask retries a task
    whose worker died, up to ``retries`` times)."""

    def __init__(self, options: ScaleOptions) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - the hub extra installs it
            raise LinkageError(
                "the partitioned engine's local and cluster schedulers need dask[distributed] "
                "(install the hub extra)") from None
        self._cluster = None
        if options.remote:
            try:
                self.client = Client(options.scheduler, timeout=f"{CONNECT_SECONDS}s")
            except OSError:  # TimeoutError included
                raise LinkageClusterError(
                    f"the Dask scheduler at {options.scheduler} did not answer within "
                    f"{CONNECT_SECONDS} s") from None
            self.description = options.scheduler
            self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        else:
            self.workers = options.worker_count()
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True,
                memory_limit=f"{options.worker_memory_gb * 1.5:.1f}GiB",
                dashboard_address=None, silence_logs=40)
            self.client = Client(self._cluster)
            self.description = f"local ({self.workers} processes)"

    def run(self, stage: str, task: Task, specs: Sequence[dict[str, Any]],
            progress: ProgressCallback) -> list[dict[str, Any]]:
        from dask.distributed import as_completed

        progress(stage, 0, len(specs))
        futures = [self.client.submit(timed, task, spec, pure=False, retries=1)
                   for spec in specs]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[dict[str, Any] | None] = [None] * len(specs)
        done = 0
        try:
            for future in as_completed(futures):
                out[index[future.key]] = future.result()
                done += 1
                progress(stage, done, len(specs))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return [o for o in out if o is not None]

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def open_executor(options: ScaleOptions) -> Executor:
    """The executor ``options.scheduler`` names."""
    if options.scheduler == "serial":
        return Executor()
    return DaskExecutor(options)
