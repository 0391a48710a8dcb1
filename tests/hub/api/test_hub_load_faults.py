"""Overload is answered 503 ``store_busy`` with ``Retry-After``, never 500 (issue 20): an
exhausted connection pool and SQLite's write lock held past the busy timeout. And under WAL
a held write lock does not stop readers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.db.engine import make_engine


def _served(hub: Any, **engine_options: Any) -> Iterator[SimpleNamespace]:
    if hub.ctx.engine.dialect.name != "sqlite":
        pytest.skip("opens the hub's SQLite file with its own engine")
    path = hub.ctx.engine.url.database
    engine = make_engine(f"sqlite:///{path}", **engine_options)
    app = create_app(hub.ctx.settings, keys=hub.ctx.keys, engine=engine)
    with TestClient(app) as client:
        yield SimpleNamespace(client=client, engine=engine, path=path)
    engine.dispose()


@pytest.fixture
def tiny_pool_hub(hub: Any) -> Iterator[SimpleNamespace]:
    """One pooled connection, no overflow, a 0.2 s checkout timeout."""
    yield from _served(hub, pool_size=1, max_overflow=0, pool_timeout=0.2)


@pytest.fixture
def impatient_hub(hub: Any) -> Iterator[SimpleNamespace]:
    """SQLite waits only 0.2 s for the write lock."""
    yield from _served(hub, connect_args={"timeout": 0.2})


def test_pool_exhausted_is_503_store_busy_with_retry_after(tiny_pool_hub: Any) -> None:
    with tiny_pool_hub.engine.connect():  # holds the only connection
        response = tiny_pool_hub.client.get("/v1/public/projects")
    assert response.status_code == 503
    assert response.json()["error"] == "store_busy"
    assert int(response.headers["Retry-After"]) > 0
    # The connection back, the same request is answered.
    assert tiny_pool_hub.client.get("/v1/public/projects").status_code == 200


def test_sqlite_write_lock_held_is_503_for_writers_and_no_wait_for_readers(
        hub: Any, impatient_hub: Any) -> None:
    researcher = hub.token("researcher")
    assert sqlite3.connect(impatient_hub.path).execute(
        "PRAGMA journal_mode").fetchone()[0] == "wal"
    holder = sqlite3.connect(impatient_hub.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        write = impatient_hub.client.post("/v1/requests", json=hub.agreement(),
                                          headers=hub.auth(researcher))
        # Readers take no lock under WAL with deferred read transactions: answered at once.
        read = impatient_hub.client.get("/v1/requests", headers=hub.auth(researcher))
        public = impatient_hub.client.get("/v1/public/projects")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert write.status_code == 503, write.text
    assert write.json()["error"] == "store_busy" and int(write.headers["Retry-After"]) > 0
    assert read.status_code == 200 and public.status_code == 200
    created = impatient_hub.client.post("/v1/requests", json=hub.agreement(),
                                        headers=hub.auth(researcher))
    assert created.status_code == 201, created.text


@pytest.fixture
def patient_hub(hub: Any) -> Iterator[SimpleNamespace]:
    """SQLite waits up to 10 s for the write lock (the production busy timeout is 30 s)."""
    yield from _served(hub, connect_args={"timeout": 10})


def test_bad_token_on_a_read_route_is_401_and_audited_while_another_writer_holds_the_lock(
        patient_hub: Any) -> None:
    # A reader session cannot take the write lock while another writer holds it (SQLite
    # refuses the upgrade at once): the refusal is written in a writer session of its own,
    # which waits for the lock, so a bad token is a 401 — never a 503 by chance (CI saw it).
    import threading
    import time

    def events() -> int:
        with sqlite3.connect(patient_hub.path) as db:
            return int(db.execute(
                "SELECT count(*) FROM audit_events WHERE action = 'auth.failed'").fetchone()[0])

    before = events()
    holder = sqlite3.connect(patient_hub.path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: (holder.execute("ROLLBACK"), holder.close()))
    started = time.monotonic()
    release.start()
    try:
        response = patient_hub.client.get("/v1/me", headers={"Authorization": "Bearer bad-1"})
    finally:
        release.join()
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert time.monotonic() - started >= 0.4  # it waited for the lock, then wrote
    assert events() == before + 1
