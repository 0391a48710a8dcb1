"""The node store on every backend: SQLite always, PostgreSQL when FEDLINK_TEST_DATABASE_URL
names one (`make test` sets it when a server answers). Ingest upserts, pid bookkeeping
(ON CONFLICT), salt pinning, the replay guard and the audit chain all go through it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from agency_node.api.app import create_app
from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.settings import NodeSettings
from tests.agency_node.store_backends import STORE_BACKENDS, store_url_on


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, served_node: Path) -> Iterator[str]:
    with store_url_on(request.param, served_node / "backend.sqlite3", prefix="node_test") as url:
        yield url


def test_node_store_serves_on_backend(
    store_url: str, served_node: Path, hub: object, wire: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FEDLINK_NODE_DATABASE_URL", store_url)
    with NodeRuntime.open(served_node) as runtime:
        assert runtime.engine.url.render_as_string(hide_password=False) == store_url
        for _ in range(2):
            summary = run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
        assert summary.records_in_store == 4
        wire.approve_locally(runtime, wire.make_terms())
        wire.pin_genesis(runtime)  # this store is new: its node pins the roster as well
    with TestClient(create_app(NodeSettings.load(served_node))) as api:
        pids: list[str] = []
        for _ in range(2):  # the second run re-issues the same pids (ON CONFLICT DO NOTHING)
            envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
            response = api.post("/v1/match-requests", content=envelope)
            assert response.status_code == 200
            pids = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()["pid"].to_pylist()
        assert api.post("/v1/match-requests", content=envelope).json()["error"] == (
            "replayed_nonce")
        body = wire.extract_body([(pid, f"person-{n}") for n, pid in enumerate(pids)],
                                 hub.assembly_kid)
        extract = api.post("/v1/extracts",
                           content=wire.signed(body, "extract_request",
                                               hub.assembly_signing))
        assert extract.status_code == 200 and extract.json()["body"]["header"]["rows"] == 4
    with NodeRuntime.open(served_node) as runtime:
        assert runtime.audit.verify().events >= 6
