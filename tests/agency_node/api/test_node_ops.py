"""Operations endpoints and logs of the node: /ready, /metrics (a registry per app), request
ids, and JSON access lines that never carry identity values, bodies or raw paths."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from agency_node.api.app import create_app
from agency_node.api.observability import RequestIdFilter
from agency_node.settings import NodeSettings
from fedlink.jsonlog import JsonFormatter

#: Identity-looking values sent to the node, and identity values of its own records.
SENT = ("Zebediah", "Quattlebaum", "078-05-1120", "1987-04-12")
STORED = ("Maria", "Garcia", "O'Brien", "223-45-6780", "03/07/2004")


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name}


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Everything logged during the test, formatted as `fedlink node serve` formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    access = logging.getLogger("agency_node")
    previous = access.level
    access.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        access.setLevel(previous)


def test_node_ready_when_store_and_keys_are_in_place(api: TestClient) -> None:
    response = api.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "agency": "K12",
                               "checks": {"database": "ok", "schema": "ok", "keys": "ok"}}


def test_node_not_ready_when_the_federation_secret_disappears(api: TestClient,
                                                              served_node: Path) -> None:
    (served_node / "secret.key").unlink()
    response = api.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_ready" and body["checks"]["database"] == "ok"
    assert body["detail"].startswith("keys: ") and "secret" in body["detail"]


def test_node_metrics_count_by_route_template_per_app(api: TestClient, served_node: Path,
                                                      hub: Any, wire: SimpleNamespace) -> None:
    envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
    assert api.post("/v1/match-requests", content=envelope).status_code == 200
    assert api.post("/v1/match-requests", content=envelope).status_code == 409
    text = loopback_metrics(api.app)
    counted = samples(text, "node_http_requests_total")
    route = (("method", "POST"), ("route", "/v1/match-requests"))
    assert counted[(*route, ("status", "200"))] == 1
    assert counted[(*route, ("status", "409"))] == 1
    assert samples(text, "node_http_request_duration_seconds_count")[route] == 2
    with TestClient(create_app(NodeSettings.load(served_node))) as other:
        assert samples(loopback_metrics(other.app), "node_http_requests_total") == {}


def loopback_metrics(app: Any) -> str:
    """A scrape from 127.0.0.1 (the TestClient's default peer is not an address)."""
    response = TestClient(app, client=("127.0.0.1", 50000)).get("/metrics")
    assert response.status_code == 200
    return response.text


def test_node_metrics_from_off_loopback_without_token_refused(api: TestClient) -> None:
    response = TestClient(api.app, client=("203.0.113.7", 50000)).get("/metrics")
    assert response.status_code == 401
    assert response.json()["error"] == "metrics_unauthorised"


def test_node_metrics_token_required_when_configured(api: TestClient) -> None:
    import hashlib

    settings = api.app.state.services.runtime.settings
    token = "scraper-token-0123456789"
    configured = settings.model_copy(
        update={"metrics_token_sha256": hashlib.sha256(token.encode()).hexdigest()})
    api.app.state.services.runtime.settings = configured
    try:
        # Loopback no longer suffices once a token is configured.
        local = TestClient(api.app, client=("127.0.0.1", 50000))
        assert local.get("/metrics").status_code == 401
        wrong = local.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "metrics_unauthorised"
        remote = TestClient(api.app, client=("203.0.113.7", 50000))
        ok = remote.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "node_http_requests_total" in ok.text
    finally:
        api.app.state.services.runtime.settings = settings


def test_node_logs_never_carry_identity_values(api: TestClient, hub: Any,
                                               wire: SimpleNamespace,
                                               log_stream: io.StringIO) -> None:
    person = {"first_name": SENT[0], "last_name": SENT[1], "ssn": SENT[2], "dob": SENT[3]}
    refused = api.post("/v1/match-requests", json=person)
    unsigned = api.post("/v1/match-requests",
                        content=wire.signed({**wire.match_body(), "person": person},
                                            "match_request", hub.signing))
    answered = api.post("/v1/match-requests",
                        content=wire.signed(wire.match_body(), "match_request", hub.signing))
    api.get(f"/v1/records/{SENT[1]}?dob={SENT[3]}")
    assert (refused.status_code, unsigned.status_code, answered.status_code) == (400, 400, 200)
    lines = log_stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    access = [e for e in entries if e["logger"] == "agency_node.access"]
    assert [e["route"] for e in access] == ["/v1/match-requests"] * 3 + ["<unmatched>"]
    assert [e["status"] for e in access] == [400, 400, 200, 404]
    assert all({"ts", "level", "request_id", "method", "duration_ms"} <= set(e) for e in access)
    for line in lines:
        for value in SENT + STORED:
            assert value not in line
