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
