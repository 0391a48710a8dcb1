"""The hub's Prometheus metrics, in a registry of their own (one per app or worker, never
the process-global one, so several apps in one test process do not collide).

Served at ``GET /metrics`` by the API. A linkage worker records its runs with::

    metrics.observe_linkage_run(seconds=run.elapsed, records_linked=len(links))
    metrics.observe_linkage_partition(stage="compare", seconds=task_seconds)  # partitioned

and, when it runs as its own process, exposes its registry with
``prometheus_client.start_http_server(port, registry=metrics.registry)``.

=====================================  =========  =============================================
``hub_http_requests_total``            counter    requests by method, route template, status
``hub_http_request_duration_seconds``  histogram  latency by method and route template
``hub_linkage_run_seconds``            histogram  wall time of each linkage run
``hub_records_linked_total``           counter    records placed in a linked cluster
``hub_linkage_runs_total``             counter    linkage runs by outcome (succeeded/failed)
``hub_linkage_partition_seconds``      histogram  partitioned engine task time, by stage
``hub_jobs``                           gauge      jobs in the database by kind and status
=====================================  =========  =============================================

Labels are route templates, codes and states only — never ids of people or values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hub.persistence import jobs

log = logging.getLogger("hub.metrics")

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LINKAGE_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)
#: One partition task of the partitioned engine (docs/scaling.md) takes well under a run.
PARTITION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class HubMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "hub_http_requests", "HTTP requests answered by the hub.",
            ["method", "route", "status"], registry=self.registry)
        self.http_duration = Histogram(
            "hub_http_request_duration_seconds", "Time to answer an HTTP request.",
            ["method", "route"], buckets=HTTP_BUCKETS, registry=self.registry)
        self.linkage_run_seconds = Histogram(
            "hub_linkage_run_seconds", "Wall time of a linkage run.",
            buckets=LINKAGE_BUCKETS, registry=self.registry)
        self.records_linked = Counter(
            "hub_records_linked", "Records placed in a linked cluster by linkage runs.",
            registry=self.registry)
        self.linkage_runs = Counter(
            "hub_linkage_runs", "Linkage runs by outcome.", ["outcome"], registry=self.registry)
        self.linkage_partition_seconds = Histogram(
            "hub_linkage_partition_seconds",
            "Wall time of one partition task of the partitioned linkage engine, by stage.",
            ["stage"], buckets=PARTITION_BUCKETS, registry=self.registry)

    def observe_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_duration.labels(method, route).observe(seconds)

    def observe_linkage_run(self, *, seconds: float, records_linked: int,
                            outcome: str = "succeeded") -> None:
        """What the linkage worker calls when a run ends."""
        self.linkage_run_seconds.observe(seconds)
        self.linkage_runs.labels(outcome).inc()
        if records_linked:
            self.records_linked.inc(records_linked)

    def observe_linkage_partition(self, *, stage: str, seconds: float) -> None:
        """One partition task of a partitioned linkage run ended (``stage``: block,
        compare, score, …; a stage name only, never a partition's content)."""
        self.linkage_partition_seconds.labels(stage).observe(seconds)

    def watch_jobs(self, sessions: sessionmaker[Session]) -> None:
        """Report ``hub_jobs{kind,status}`` from the database at every scrape."""
        self.registry.register(_JobsCollector(sessions))


class _JobsCollector(Collector):
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def describe(self) -> list[Metric]:
        # Described without touching the database (registration must not query it).
        return [GaugeMetricFamily("hub_jobs", "Jobs by kind and status.",
                                  labels=["kind", "status"])]

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("hub_jobs", "Jobs by kind and status.",
                                   labels=["kind", "status"])
        try:
            with self._sessions() as session:
                counts = jobs.counts(session)
        except SQLAlchemyError as exc:
            log.warning("hub_jobs not collected: %s", type(exc).__name__)
            return
        for (kind, status), count in sorted(counts.items()):
            family.add_metric([kind, status], count)
        yield family
