"""A node store that cannot take a write — opened read-only, or at its size limit, or a
read-only PostgreSQL session — makes ``/ready`` answer 503 naming the store, and a request
that must write answer 503 ``store_unavailable`` with ``Retry-After``, never a 500. Real
processes on a full disk: ``tests/agency_node/test_node_disk_faults_e2e.py``."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError

from agency_node.api.app import create_app
from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.settings import NodeSettings
from agency_node.store.faults import is_store_fault

PG_URL = os.environ.get("FEDLINK_TEST_DATABASE_URL")


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
def read_only_pg_api(served_node: Path, wire: SimpleNamespace,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The node on a PostgreSQL store (a schema of this test's own) whose sessions are
    read-only, as on a standby or for a read-only role: writes raise SQLSTATE 25006, an
    ``InternalError`` to SQLAlchemy rather than an ``OperationalError``."""
    if not PG_URL:
        pytest.skip("needs PostgreSQL (FEDLINK_TEST_DATABASE_URL)")
    schema = f"node_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    try:
        monkeypatch.setenv("FEDLINK_NODE_DATABASE_URL", url)
        with NodeRuntime.open(served_node) as runtime:  # a loaded, governed store first
            run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
            wire.approve_locally(runtime, wire.make_terms())
            wire.pin_genesis(runtime)
        monkeypatch.setenv("FEDLINK_NODE_DATABASE_URL",
                           f"{url}%20-cdefault_transaction_read_only%3Don")
        yield from client(served_node)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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


@pytest.mark.postgres
def test_node_match_request_on_a_read_only_postgresql_store_is_503_store_unavailable(
        read_only_pg_api: TestClient, hub: Any, wire: SimpleNamespace) -> None:
    ready = read_only_pg_api.get("/ready")
    assert ready.status_code == 503
    assert "read-only transaction" in ready.json()["checks"]["database"]
    envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
    response = read_only_pg_api.post("/v1/match-requests", content=envelope)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "store_unavailable"
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize(("driver_error", "fault"), [
    (psycopg.errors.ReadOnlySqlTransaction, True),  # 25006, an InternalError
    (psycopg.errors.DiskFull, True),                # 53100
    (psycopg.errors.ConnectionFailure, True),       # 08006
    (psycopg.errors.AdminShutdown, True),           # 57P01
    (psycopg.errors.DeadlockDetected, True),        # 40P01
    (psycopg.errors.UniqueViolation, False),        # 23505: a bug, not the store
    (psycopg.errors.InvalidTextRepresentation, False),  # 22P02
])
def test_node_store_fault_classified_by_sqlstate(driver_error: type[Exception],
                                                 fault: bool) -> None:
    wrapped = DBAPIError.instance("UPDATE …", {}, driver_error("x"), psycopg.Error)
    assert is_store_fault(wrapped) is fault


@pytest.mark.postgres
def test_node_on_postgresql_made_read_only_then_fixed_recovers_without_restart(
        served_node: Path, hub: Any, wire: SimpleNamespace,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A role of the test's own: making it read-only touches nothing else on the server.
    if not PG_URL:
        pytest.skip("needs PostgreSQL (FEDLINK_TEST_DATABASE_URL)")
    role = f"fedlink_node_ro_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL)
    ended = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'CREATE SCHEMA "{role}" AUTHORIZATION "{role}"'))
    url = make_url(PG_URL).set(username=role).update_query_dict(
        {"options": f"-csearch_path={role}"}).render_as_string(hide_password=False)
    monkeypatch.setenv("FEDLINK_NODE_DATABASE_URL", url)

    def match() -> Any:
        return api.post("/v1/match-requests",
                        content=wire.signed(wire.match_body(), "match_request", hub.signing))

    try:
        with NodeRuntime.open(served_node) as runtime:
            run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
            wire.approve_locally(runtime, wire.make_terms())
            wire.pin_genesis(runtime)
        for api in client(served_node):
            assert match().status_code == 200
            with admin.begin() as conn:  # a role setting binds the sessions begun after it
                conn.execute(text(f'ALTER ROLE "{role}" SET default_transaction_read_only = on'))
                conn.execute(text(ended))
            for _ in range(2):
                refused = match()
                assert refused.status_code == 503, refused.text
                assert refused.json()["error"] == "store_unavailable"
            assert "read-only transaction" in api.get("/ready").json()["checks"]["database"]
            with admin.begin() as conn:  # fixed; the node's sessions are left as they are
                conn.execute(text(f'ALTER ROLE "{role}" RESET default_transaction_read_only'))
            # The node drops a session on 25006, so the next request opens a fresh one.
            statuses = [match().status_code for _ in range(3)]
            assert statuses[-1] == 200 and statuses.count(503) <= 1, statuses
            assert api.get("/ready").status_code == 200
    finally:
        with admin.begin() as conn:
            conn.execute(text(ended))
            conn.execute(text(f'DROP SCHEMA "{role}" CASCADE'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def test_node_bug_in_the_database_layer_is_still_a_500_not_a_store_fault(
        served_node: Path) -> None:
    # A constraint violation is the node's bug, not the store's fault: a 503 would make the
    # hub retry it forever.
    from sqlalchemy.exc import IntegrityError

    app = create_app(NodeSettings.load(served_node))

    @app.get("/test-only/integrity")
    def _raise() -> None:
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    with TestClient(app, raise_server_exceptions=False) as api:
        response = api.get("/test-only/integrity")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
