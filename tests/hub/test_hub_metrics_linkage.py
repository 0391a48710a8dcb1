"""The partitioned engine's per-task timings in the hub's metrics (docs/scaling.md):
``hub_linkage_partition_seconds`` by stage, beside the run-level linkage metrics."""

from __future__ import annotations

from prometheus_client import generate_latest

from hub.metrics import HubMetrics
from tests.hub.api.test_hub_ops import samples


def test_hub_metrics_time_partition_tasks_by_stage() -> None:
    metrics = HubMetrics()
    metrics.observe_linkage_partition(stage="block", seconds=0.4)
    metrics.observe_linkage_partition(stage="compare", seconds=12.0)
    metrics.observe_linkage_partition(stage="compare", seconds=50.0)
    metrics.observe_linkage_run(seconds=70.0, records_linked=10)
    text = generate_latest(metrics.registry).decode()
    counts = samples(text, "hub_linkage_partition_seconds_count")
    assert counts == {(("stage", "block"),): 1, (("stage", "compare"),): 2}
    assert samples(text, "hub_linkage_partition_seconds_sum")[(("stage", "compare"),)] == 62.0
    buckets = samples(text, "hub_linkage_partition_seconds_bucket")
    assert buckets[(("le", "30.0"), ("stage", "compare"))] == 1
    assert buckets[(("le", "60.0"), ("stage", "compare"))] == 2
    assert samples(text, "hub_linkage_run_seconds_count")[()] == 1  # the run is timed apart


def test_hub_metrics_partition_stage_is_the_only_label() -> None:
    metrics = HubMetrics()
    metrics.observe_linkage_partition(stage="score", seconds=1.0)
    text = generate_latest(metrics.registry).decode()
    labels = {name for key in samples(text, "hub_linkage_partition_seconds_count")
              for name, _ in key}
    assert labels == {"stage"}  # no partition number or run id: bounded cardinality
