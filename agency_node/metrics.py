"""The node's Prometheus metrics, in a registry of their own per app (never the global one).

=======================================  =========  =========================================
``node_http_requests_total``             counter    requests by method, route template, status
``node_http_request_duration_seconds``   histogram  latency by method and route template
``node_match_units_encoded_total``       counter    units encoded and sent in match streams
=======================================  =========  =========================================

A refused hub request shows as its status on its route (401 bad signature, 403 outside the
approved scope, 409 replay …): a burst of them is worth an alert. Labels are route templates
and status codes only. The match-units counter has no label: its rate is a long match
stream's progress (the node also logs it, ``agency_node.match``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

#: Match responses stream whole token tables, so the latency buckets reach minutes.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                120.0, 300.0)


class NodeMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "node_http_requests", "HTTP requests answered by the node.",
            ["method", "route", "status"], registry=self.registry)
        self.http_duration = Histogram(
            "node_http_request_duration_seconds", "Time to answer an HTTP request.",
            ["method", "route"], buckets=HTTP_BUCKETS, registry=self.registry)
        self.match_units_encoded = Counter(
            "node_match_units_encoded", "Units (agency persons, records) encoded and sent in "
            "match streams.", registry=self.registry)

    def observe_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_duration.labels(method, route).observe(seconds)
