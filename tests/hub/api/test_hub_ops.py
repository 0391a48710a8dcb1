"""Operations endpoints and logs of the hub: /ready, /metrics (a registry per app), request
ids, and JSON access lines that never carry identity values, bodies or raw paths."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fedlink.jsonlog import JsonFormatter
from hub.api.app import create_app
from hub.api.observability import RequestIdFilter
from hub.db.engine import make_engine
from hub.keys import create_hub_keys
from hub.services.jobs import JobQueue
from hub.settings import HubSettings

IDENTITY = ("Zebediah", "Quattlebaum", "078-05-1120", "1987-04-12")


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Everything logged during the test, formatted as `fedlink hub serve` formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    access = logging.getLogger("hub.access")
    previous = access.level
    access.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        access.setLevel(previous)


def test_hub_ready_reports_each_check(hub: Any) -> None:
    response = hub.client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready",
                               "checks": {"database": "ok", "schema": "ok", "keys": "ok"}}


def test_hub_not_ready_when_a_key_file_becomes_readable_by_others(hub: Any) -> None:
    (hub.ctx.settings.dir / "signing.key").chmod(0o644)
    response = hub.client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_ready" and body["checks"]["database"] == "ok"
    assert "keys: " in body["detail"] and "chmod 600" in body["detail"]


def test_hub_not_ready_when_the_database_is_unreachable(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    keys = create_hub_keys(tmp_path / "hub")
    url = "postgresql+psycopg://hub@127.0.0.1:1/hub"
    settings = HubSettings.load(tmp_path / "hub", database_url=url)
    engine = make_engine(url, connect_args={"connect_timeout": 2})
    app = create_app(settings, keys=keys, engine=engine, check_schema=False)
    with TestClient(app) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("database: cannot be reached (OperationalError")
    assert response.json()["checks"]["keys"] == "ok"


def test_hub_health_answers_without_the_database(tmp_path: Path) -> None:
    """Liveness needs no connection: with the database unreachable /health still says
    ok (and /ready says why not), so a flood of /health cannot hold the pool."""
    from fastapi.testclient import TestClient

    keys = create_hub_keys(tmp_path / "hub")
    url = "postgresql+psycopg://hub@127.0.0.1:1/hub"
    settings = HubSettings.load(tmp_path / "hub", database_url=url)
    engine = make_engine(url, connect_args={"connect_timeout": 2})
    app = create_app(settings, keys=keys, engine=engine, check_schema=False)
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/ready").status_code == 503


def test_hub_metrics_count_requests_by_route_template_per_app(hub: Any, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    first = hub
    settings = HubSettings.load(tmp_path / "second", database_url=str(
        hub.ctx.engine.url.render_as_string(hide_password=False)))
    second = create_app(settings, keys=create_hub_keys(tmp_path / "second"),
                        engine=hub.ctx.engine)
    for _ in range(3):
        assert first.client.get("/v1/requests/R-404", headers=first.auth("nope")).status_code == 401
    text = loopback_metrics(first.app)
    counted = samples(text, "hub_http_requests_total")
    key = (("method", "GET"), ("route", "/v1/requests/{request_id}"), ("status", "401"))
    assert counted[key] == 3
    assert not any("R-404" in label for labels in counted for _, label in labels)
    durations = samples(text, "hub_http_request_duration_seconds_count")
    assert durations[(("method", "GET"), ("route", "/v1/requests/{request_id}"))] == 3
    with TestClient(second):
        other = samples(loopback_metrics(second), "hub_http_requests_total")
    assert key not in other  # each app has its own registry


def test_hub_metrics_expose_jobs_and_linkage_hooks(hub: Any) -> None:
    queue = JobQueue(hub.ctx.session_factory)
    queue.enqueue("linkage_run", {"run": "r1"})
    queue.enqueue("linkage_run", {"run": "r2"})
    hub.app.state.metrics.observe_linkage_run(seconds=42.0, records_linked=1234)
    text = loopback_metrics(hub.app)
    assert samples(text, "hub_jobs")[(("kind", "linkage_run"), ("status", "queued"))] == 2
    assert samples(text, "hub_records_linked_total")[()] == 1234
    assert samples(text, "hub_linkage_run_seconds_count")[()] == 1
    assert samples(text, "hub_linkage_runs_total")[(("outcome", "succeeded"),)] == 1


def loopback_metrics(app: Any) -> str:
    """A scrape from 127.0.0.1 (the TestClient's default peer is not an address)."""
    from fastapi.testclient import TestClient

    response = TestClient(app, client=("127.0.0.1", 50000)).get("/metrics")
    assert response.status_code == 200
    return response.text


def test_hub_metrics_from_off_loopback_without_token_refused(hub: Any) -> None:
    from fastapi.testclient import TestClient

    response = TestClient(hub.app, client=("203.0.113.7", 50000)).get("/metrics")
    assert response.status_code == 401
    assert response.json()["error"] == "metrics_unauthorised"
    # Not even an admin's API token opens it: metrics have their own credential.
    admin = TestClient(hub.app, client=("203.0.113.7", 50000)).get(
        "/metrics", headers=hub.auth(hub.admin_token))
    assert admin.status_code == 401


def test_hub_metrics_token_required_when_configured(hub: Any) -> None:
    import hashlib

    from fastapi.testclient import TestClient

    token = "scraper-token-0123456789"
    settings = hub.ctx.settings
    hub.ctx.settings = settings.model_copy(
        update={"metrics_token_sha256": hashlib.sha256(token.encode()).hexdigest()})
    try:
        local = TestClient(hub.app, client=("127.0.0.1", 50000))
        assert local.get("/metrics").status_code == 401
        assert local.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 401
        remote = TestClient(hub.app, client=("203.0.113.7", 50000))
        ok = remote.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "hub_http_requests_total" in ok.text
    finally:
        hub.ctx.settings = settings


def test_hub_request_id_is_echoed_or_made(hub: Any) -> None:
    kept = hub.client.get("/health", headers={"X-Request-ID": "lb-1234abcd"})
    assert kept.headers["X-Request-ID"] == "lb-1234abcd"
    replaced = hub.client.get("/health", headers={"X-Request-ID": "Zebediah Quattlebaum <x>"})
    assert replaced.headers["X-Request-ID"] != "Zebediah Quattlebaum <x>"
    assert len(replaced.headers["X-Request-ID"]) == 16


def test_hub_logs_are_json_lines_without_identity_values(hub: Any,
                                                         log_stream: io.StringIO) -> None:
    researcher = hub.token("researcher")
    person = {"name": f"{IDENTITY[0]} {IDENTITY[1]}", "role": "PI",
              "institution": "State University", "email": "zq@uni.example",
              "ssn": IDENTITY[2], "dob": IDENTITY[3]}
    rejected = hub.client.post("/v1/requests", headers=hub.auth(researcher),
                               json=hub.agreement(personnel=[person]))  # unknown fields
    named = {k: v for k, v in person.items() if k not in ("ssn", "dob")}
    created = hub.client.post("/v1/requests", headers=hub.auth(researcher),
                              json=hub.agreement(personnel=[named]))
    assert (rejected.status_code, created.status_code) == (422, 201)
    hub.client.get(f"/v1/requests?name={IDENTITY[0]}&dob={IDENTITY[3]}",
                   headers=hub.auth(researcher))
    hub.client.get(f"/v1/people/{IDENTITY[1]}/{IDENTITY[2]}")
    lines = log_stream.getvalue().splitlines()
    access = [json.loads(line) for line in lines]
    routes = {entry.get("route") for entry in access if entry["logger"] == "hub.access"}
    assert {"/v1/requests", "<unmatched>"} <= routes
    for entry in access:
        assert {"ts", "level", "logger", "msg"} <= set(entry)
        if entry["logger"] == "hub.access":
            assert {"request_id", "method", "route", "status", "duration_ms"} <= set(entry)
    for line in lines:
        for value in IDENTITY:
            assert value not in line
