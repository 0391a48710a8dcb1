"""The linkage worker: claims ``linkage_run`` jobs and carries each run out.

One run: :func:`~hub.services.run_state.begin_attempt` (partial results of an earlier
attempt discarded) → every agency node asked concurrently for its token batches
(:mod:`hub.services.node_fetch`) → :func:`hub.linkage.link` (deduplicating the agencies
that declared ``may_duplicate`` person ids, ``RunPlan.deduplicated``) → clusters, links
and report stored with the project moved to ``ready``
(:func:`~hub.services.run_state.finish_success`).
Any failure ends the run ``failed`` with its code and reason, naming the node when one
caused it. Every step is audited in the transaction that records it.

Restart safety: the job is held under a lease that a heartbeat thread renews every third
of ``run_lease_seconds``. If the hub dies, the lease runs out; the next worker to look
(:meth:`LinkageWorker.run_once`, also at start-up) reclaims the job and starts the run
again from the beginning, or — after ``run_max_attempts`` claims — ends it ``failed``
("interrupted by hub restart"). A worker that loses its lease stops and writes nothing
more. On a graceful shutdown the current run is handed back to the queue at once.

The worker runs as a thread of the hub API process (``run_worker = true``, started by the
app's lifespan) and/or as ``fedlink hub worker`` processes; any number may share one
database (claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy.exc import SQLAlchemyError

from hub.errors import NodeRequestError
from hub.linkage import LinkageConfig, LinkageError, LinkageResult
from hub.linkage.partitioned import ScaleOptions, link_landed
from hub.metrics import HubMetrics
from hub.node_client import make_node_http_client
from hub.persistence.jobs import ClaimedJob, LeaseLostError
from hub.services import run_state
from hub.services.context import HubContext
from hub.services.jobs import JobQueue, LeaseHeartbeat
from hub.services.node_fetch import FetchPolicy, StoppedError, fetch_all
from hub.services.run_state import JOB_KIND, RunPlan
from hub.settings import HubSettings

log = logging.getLogger("hub.worker")
T = TypeVar("T")
#: Engine progress is written at most this often (plus at every stage change).
PROGRESS_EVERY_SECONDS = 1.0
#: Runs' working files when ``linkage_workdir`` is unset, under the hub directory.
DEFAULT_WORKDIR = "linkage-work"


def scale_options(settings: HubSettings) -> ScaleOptions:
    """The engine choice and the partitioned engine's options, from the hub's settings."""
    workdir = settings.linkage_workdir or str(settings.dir / DEFAULT_WORKDIR)
    return ScaleOptions(
        engine=settings.linkage_engine, memory_max_records=settings.linkage_memory_max_records,
        scheduler=settings.linkage_scheduler, workers=settings.linkage_workers,
        worker_memory_gb=settings.linkage_worker_memory_gb,
        partitions=settings.linkage_partitions, workdir=workdir)


def default_worker_id() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{threading.get_ident() % 100_000}"


class LinkageWorker:
    """Claims and runs linkage jobs; ``client`` (tests: an ASGI or mock transport) defaults
    to :func:`hub.node_client.make_node_http_client`."""

    def __init__(self, ctx: HubContext, *, client: httpx.Client | None = None,
                 metrics: HubMetrics | None = None, worker_id: str | None = None,
                 config: LinkageConfig | None = None, scale: ScaleOptions | None = None,
                 poll_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.worker_id = worker_id or default_worker_id()
        self._owns_client = client is None
        self.client = client or make_node_http_client(ctx.settings)
        self.metrics = metrics
        self.config = config or LinkageConfig()
        self.scale = scale or scale_options(ctx.settings)
        self.poll_seconds = poll_seconds
        self.queue = JobQueue(ctx.session_factory, clock=ctx.now)
        self.stopping = threading.Event()
        self._run_stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        settings = ctx.settings
        self.policy = FetchPolicy(signing_key=ctx.keys.signing, retries=settings.node_retries,
                                  backoff_seconds=settings.node_retry_backoff_seconds)

    # --- the loop ---------------------------------------------------------------------

    def _tx(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.ctx.session_factory() as session:
            return fn(session, self.ctx, *args, **kwargs)

    def run_once(self) -> str | None:
        """Reconcile runs with their jobs, then claim and carry out one run; returns its id,
        or None when there was nothing to do."""
        self.queue.reclaim_expired()
        self._tx(run_state.reconcile, worker_id=self.worker_id)
        job = self.queue.claim(self.worker_id, [JOB_KIND],
                               lease_seconds=self.ctx.settings.run_lease_seconds)
        if job is None:
            return None
        self._execute(job)
        return str(job.payload.get("run_id", ""))

    def serve(self) -> None:
        """Run until :meth:`stop`; errors are logged and retried, never fatal."""
        log.info("linkage worker %s started", self.worker_id)
        while not self.stopping.is_set():
            try:
                worked = self.run_once()
            except Exception as exc:
                # The thread must outlive a database outage or a bug in one run; a run left
                # behind is reclaimed when its lease runs out.
                log.error("linkage worker: %s; retrying", type(exc).__name__)
                worked = None
            if worked is None:
                self.stopping.wait(self.poll_seconds)
        log.info("linkage worker %s stopped", self.worker_id)

    def start(self) -> threading.Thread:
        """Serve in a daemon thread (the hub API process)."""
        self._thread = threading.Thread(target=self.serve, name="fedlink-linkage-worker",
                                        daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; hand a run in progress back to the queue; wait for the thread."""
        self.stopping.set()
        if self._run_stop is not None:
            self._run_stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        self.close()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    # --- one run ----------------------------------------------------------------------

    def _execute(self, job: ClaimedJob) -> None:
        plan = self._tx(run_state.begin_attempt, job)
        if plan is None:
            return
        stop = threading.Event()
        self._run_stop = stop
        if self.stopping.is_set():
            stop.set()
        heartbeat = LeaseHeartbeat(self.queue, job, self.ctx.settings.run_lease_seconds, stop)
        heartbeat.start()
        started = time.perf_counter()
        try:
            self._carry_out(job, plan, stop, started)
        except LeaseLostError:
            log.warning("run %s: attempt %s lost its lease; another worker owns it now",
                        plan.run_id, job.attempt)
        finally:
            heartbeat.finish()
            self._run_stop = None
        if heartbeat.lost:
            log.warning("run %s: attempt %s abandoned (lease lost)", plan.run_id, job.attempt)

    def _carry_out(self, job: ClaimedJob, plan: RunPlan, stop: threading.Event,
                   started: float) -> None:
        try:
            # Each node's stream lands on disk in a directory of this attempt's own, removed
            # when the run ends whatever the outcome (docs/linkage-runs.md).
            with self._spool(plan) as spool_dir:
                paths = fetch_all(
                    self.client, plan.targets, self.policy, stop=stop, spool_dir=spool_dir,
                    on_answer=lambda answer: self._tx(run_state.node_answered, job, plan,
                                                      answer))
                linking = time.perf_counter()
                # Agencies that declared duplicate-prone person ids are deduplicated in this
                # run; every other agency stays one-to-one (docs/linkage-runs.md).
                config = dataclasses.replace(self.config, dedup=plan.deduplicated)
                # Small runs in memory, large ones partition by partition on the
                # configured Dask scheduler (docs/scaling.md).
                # The engine's partition files go in the attempt's directory too, so
                # whatever an attempt leaves is under one name (see _spool).
                scale = dataclasses.replace(self.scale, workdir=str(spool_dir))
                result = link_landed(paths, config, scale,
                                     progress=self._progress(job, plan, stop))
            self._observe_partitions(result)
            # A fresh lease before the store: on SQLite its commit holds the write lock
            # the heartbeat also needs, so the store gets a whole lease of time.
            self.queue.heartbeat(job, lease_seconds=self.ctx.settings.run_lease_seconds)
            counts = self._tx(run_state.finish_success, job, plan, result,
                              link_seconds=time.perf_counter() - linking)
            if counts is None:
                self._observe(started, 0, "failed")
            else:
                self._observe(started, counts["records_in_linked_clusters"], "succeeded")
            return
        except StoppedError:
            if stop.is_set() and not self.stopping.is_set():
                raise LeaseLostError(f"run {plan.run_id} stopped: lease lost") from None
            self._tx(run_state.requeue, job, plan, reason="the hub shut down during the run")
            return
        except NodeRequestError as exc:
            code, reason, agency = exc.code, str(exc), exc.agency
        except LinkageError as exc:
            code, reason, agency = exc.code, str(exc), None
        except (LeaseLostError, SQLAlchemyError):
            raise
        except Exception as exc:
            # A bug, not a node's or the data's fault: the run fails with a generic reason
            # (the type only: a message could quote data) and the log says where.
            log.exception("run %s failed unexpectedly", plan.run_id)
            code = "internal_error"
            reason = f"the run failed unexpectedly ({type(exc).__name__}); see the hub log"
            agency = None
        self._tx(run_state.finish_failure, job, plan, code=code, reason=reason, agency=agency)
        self._observe(started, 0, "failed")

    @contextlib.contextmanager
    def _spool(self, plan: RunPlan) -> Iterator[Path]:
        """A fresh directory (0700) for this attempt's landed streams and partition files,
        in the linkage work directory (which a cluster's workers mount too); removed with
        everything in it when the ``with`` ends, however it ends.

        An attempt that never reached its end — the hub killed, the machine lost — left its
        directory behind: the run's next attempt removes it first. This worker holds the
        run's lease, so no other attempt of the run is still meant to be writing there."""
        root = Path(self.scale.workdir)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        stale = [p for p in root.glob(f"{plan.run_id}-*") if p.is_dir()]
        for left in stale:
            shutil.rmtree(left, ignore_errors=True)
        if stale:
            log.info("run %s: removed %d directories an earlier attempt left", plan.run_id,
                     len(stale))
        with tempfile.TemporaryDirectory(prefix=f"{plan.run_id}-", dir=root) as spool:
            yield Path(spool)

    def _progress(self, job: ClaimedJob, plan: RunPlan,
                  stop: threading.Event) -> Callable[[str, int, int], None]:
        last_stage, last_at = "", 0.0

        def progress(stage: str, completed: int, total: int) -> None:
            nonlocal last_stage, last_at
            if stop.is_set():
                raise StoppedError
            now = time.monotonic()
            if stage == last_stage and now - last_at < PROGRESS_EVERY_SECONDS \
                    and completed < total:
                return
            last_stage, last_at = stage, now
            self._tx(run_state.link_progress, job, plan, stage=stage, completed=completed,
                     total=total)

        return progress

    def _observe_partitions(self, result: LinkageResult) -> None:
        if self.metrics is None:
            return
        for task in result.report.get("partitions", {}).get("tasks", ()):
            self.metrics.observe_linkage_partition(stage=task["stage"], seconds=task["seconds"])

    def _observe(self, started: float, linked: int, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.observe_linkage_run(seconds=time.perf_counter() - started,
                                             records_linked=int(linked), outcome=outcome)
