"""A node store that cannot take a write — opened read-only, or at its size limit — makes
``/ready`` answer 503 naming the store, and a request that must write answer 503
``store_unavailable`` with ``Retry-After``, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from agency_node.api.app import create_app
from agency_node.settings import NodeSettings


def client(served_node: Path) -> Iterator[TestClient]:
    app = create_app(NodeSettings.load(served_node))
    with TestClient(app, raise_server_exceptions=False) as api:
        yield api


@pytest.fixture
def read_only_api(served_node: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # mode=ro is what a read-only file system gives SQLite (chmod does not bind root).
    url = f"sqlite:///file:{served_node / 'node.sqlite3'}?mode=ro&uri=true"
    monkeypatch.setenv("FEDLINK_NODE_DATABASE_URL", url)
    yield from client(served_node)


@pytest.fixture
def full_api(served_node: Path) -> Iterator[TestClient]:
    # A size-limited file: no free page left and the page count capped where it is, so the
    # next write that needs a page fails with "database or disk is full".
    for api in client(served_node):
        engine = api.app.state.services.runtime.engine
        with engine.connect() as connection:
            connection.exec_driver_sql("VACUUM")

        @event.listens_for(engine, "connect")
        def _no_room(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count={pages}")
            cursor.close()

        engine.dispose()  # every connection from now on is capped
        yield api


def test_node_not_ready_on_a_read_only_store(read_only_api: TestClient) -> None:
    response = read_only_api.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_ready"
    assert body["checks"]["database"].startswith("the store cannot take a write")
    assert "readonly" in body["checks"]["database"]
    assert body["checks"]["keys"] == "ok"


def test_node_match_request_on_a_read_only_store_is_503_store_unavailable(
        read_only_api: TestClient, hub: Any, wire: SimpleNamespace) -> None:
    envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
    response = read_only_api.post("/v1/match-requests", content=envelope)
    assert response.status_code == 503
    assert response.json()["error"] == "store_unavailable"
    assert int(response.headers["retry-after"]) > 0


def test_node_not_ready_on_a_full_store(full_api: TestClient) -> None:
    response = full_api.get("/ready")
    assert response.status_code == 503
    assert "is full" in response.json()["checks"]["database"]


def test_node_match_request_on_a_full_store_is_503_store_unavailable(
        full_api: TestClient, hub: Any, wire: SimpleNamespace) -> None:
    statuses = set()
    for _ in range(20):  # the first few writes may still fit in partly filled pages
        envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
        response = full_api.post("/v1/match-requests", content=envelope)
        statuses.add(response.status_code)
        if response.status_code == 503:
            assert response.json()["error"] == "store_unavailable"
            break
    assert 503 in statuses and 500 not in statuses
