"""Abuse limits of the hub API: the request-size cap (413 before a body is read whole) and
bad-token requests that cannot grow the permanent audit log without bound."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.api.body_limit import BodyLimit
from hub.db.models import AuditEvent

SIXTY_MB = 60 * 1024 * 1024


def _events(hub: Any, action: str | None = None) -> int:
    with hub.ctx.session_factory() as session:
        query = select(func.count()).select_from(AuditEvent)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return int(session.scalar(query) or 0)


# --- the request-size cap -------------------------------------------------------------


def test_hub_sixty_megabyte_anonymous_body_refused_with_413(hub: Any) -> None:
    events = _events(hub)
    response = hub.client.post("/v1/enrollment", content=b"x" * SIXTY_MB,
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert _events(hub) == events


def test_hub_body_cap_applies_to_every_route(hub: Any) -> None:
    body = b"{" + b" " * (hub.ctx.settings.max_request_bytes + 1) + b"}"
    for method, path in (("POST", "/v1/requests"), ("PUT", "/v1/requests/R-1"),
                         ("POST", "/v1/users"), ("GET", "/health"), ("POST", "/nowhere")):
        response = hub.client.request(method, path, content=body, headers=hub.auth("x"))
        assert response.status_code == 413, (method, path, response.text)
        assert response.json()["error"] == "payload_too_large"


class _Driver:
    """Drives :class:`BodyLimit` around a reading app with a scripted client."""

    def __init__(self, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> None:
        self.chunks, self.headers = chunks, headers
        self.sent: list[dict[str, Any]] = []
        self.app_read = 0
        self.client_reads = 0

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break  # what Starlette's request.body() sees: it stops reading
            self.app_read += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"handled"})

    def run(self, limit: int) -> None:
        async def receive() -> dict[str, Any]:
            index = self.client_reads
            self.client_reads += 1
            return {"type": "http.request", "body": self.chunks[index],
                    "more_body": index + 1 < len(self.chunks)}

        async def send(message: dict[str, Any]) -> None:
            self.sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/", "headers": self.headers}
        asyncio.run(BodyLimit(self.app, limit=limit)(scope, receive, send))

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])


def test_hub_body_cap_declared_length_refused_before_reading() -> None:
    driver = _Driver([b"x" * 10], [(b"content-length", str(SIXTY_MB).encode())])
    driver.run(limit=1024)
    assert driver.status == 413 and driver.client_reads == 0 and driver.app_read == 0


def test_hub_body_cap_chunked_body_without_length_counted_as_it_streams() -> None:
    driver = _Driver([b"x" * 1000] * 60_000, [])  # 60 MB, no Content-Length
    driver.run(limit=16 * 1024)
    assert driver.status == 413
    # Stopped at the first chunk past the limit: the rest was never read.
    assert driver.client_reads == 17
    assert driver.app_read <= 16 * 1024
    assert [m["status"] for m in driver.sent if m["type"] == "http.response.start"] == [413]


def test_hub_body_cap_lying_content_length_refused() -> None:
    driver = _Driver([b"x" * 1000] * 100, [(b"content-length", b"10")])
    driver.run(limit=4096)
    assert driver.status == 413 and driver.client_reads == 5 and driver.app_read <= 4096


def test_hub_body_cap_admits_a_body_within_the_limit() -> None:
    driver = _Driver([b"x" * 1000] * 4, [(b"content-length", b"4000")])
    driver.run(limit=4096)
    assert driver.status == 200 and driver.app_read == 4000


# --- bad tokens and the audit log -----------------------------------------------------


@pytest.fixture
def limited_hub(make_hub: Any) -> Iterator[Any]:
    yield make_hub(auth_failure_window_seconds=300, auth_failure_audit_per_window=5,
                   auth_failure_block_after=50)


def test_hub_two_hundred_bad_tokens_add_a_bounded_number_of_events(limited_hub: Any) -> None:
    hub = limited_hub
    before = _events(hub)
    statuses = [hub.client.get("/v1/me", headers=hub.auth(f"bad-{i}")).status_code
                for i in range(200)]
    assert statuses[:50] == [401] * 50
    assert set(statuses[50:]) == {429}
    refused = hub.client.get("/v1/me", headers=hub.auth("bad-again"))
    assert refused.json()["error"] == "too_many_auth_failures"
    # Five audited one by one; the other 196 are counted, not appended.
    assert _events(hub, "auth.failed") == 5
    assert _events(hub) - before == 5
    # A valid token from the same address is still admitted (the limit protects the log).
    assert hub.client.get("/v1/me", headers=hub.auth(hub.admin_token)).status_code == 200

    # When the window is over, the next failure first writes one summary of the last one.
    hub.clock.offset += dt.timedelta(seconds=301)
    assert hub.client.get("/v1/me", headers=hub.auth("bad-later")).status_code == 401
    with hub.ctx.session_factory() as session:
        summaries = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.failures_summarised")))
    assert len(summaries) == 1
    detail = summaries[0].detail
    assert detail["failures"] == 201 and detail["audited"] == 5
    assert detail["not_audited"] == 196 and detail["refused_429"] == 151
    assert detail["sources"] == [{"source": "testclient", "failures": 201, "audited": 5,
                                  "refused_429": 151}]
    assert _events(hub, "auth.failed") == 6


def test_hub_bad_tokens_from_many_sources_bounded_overall(limited_hub: Any) -> None:
    from fastapi.testclient import TestClient

    hub = limited_hub
    before = _events(hub)
    for i in range(40):
        client = TestClient(hub.app, client=(f"198.51.100.{i}", 40000))
        for j in range(5):
            assert client.get("/v1/me", headers=hub.auth(f"bad-{i}-{j}")).status_code == 401
    # 200 failures from 40 addresses: at most 10 × 5 individual events per window.
    assert _events(hub, "auth.failed") == 50
    assert _events(hub) - before == 50


def test_hub_pending_failure_summary_recorded_when_the_app_stops(make_hub: Any) -> None:
    from fastapi.testclient import TestClient

    hub = make_hub(auth_failure_audit_per_window=1)
    with TestClient(hub.app) as client:
        for i in range(3):
            assert client.get("/v1/me", headers=hub.auth(f"bad-{i}")).status_code == 401
    assert _events(hub, "auth.failed") == 1
    assert _events(hub, "auth.failures_summarised") == 1
