"""A hub database that cannot take a write makes ``/ready`` answer 503 naming it, and a
write answer 503 ``store_unavailable`` with ``Retry-After`` — never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.db.engine import make_engine


@pytest.fixture
def read_only_hub(hub: Any) -> Iterator[SimpleNamespace]:
    """The same hub served from its database opened read-only (``mode=ro``: what SQLite
    falls back to on a read-only file system; chmod does not bind root)."""
    path = hub.ctx.engine.url.database
    if hub.ctx.engine.dialect.name != "sqlite":
        pytest.skip("opens the SQLite file read-only")
    engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    app = create_app(hub.ctx.settings, keys=hub.ctx.keys, engine=engine)
    with TestClient(app) as client:
        yield SimpleNamespace(client=client, admin_token=hub.admin_token)
    engine.dispose()


def test_hub_not_ready_on_a_read_only_database(read_only_hub: Any) -> None:
    response = read_only_hub.client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_ready" and body["checks"]["keys"] == "ok"
    assert body["checks"]["database"].startswith("the database cannot take a write")


def test_hub_write_on_a_read_only_database_is_503_store_unavailable(read_only_hub: Any) -> None:
    response = read_only_hub.client.post(
        "/v1/agencies", headers={"Authorization": f"Bearer {read_only_hub.admin_token}"},
        json={"code": "WF", "name": "WF agency", "url": "http://wf:8101"})
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "store_unavailable"
    assert response.headers["retry-after"] == "30"
