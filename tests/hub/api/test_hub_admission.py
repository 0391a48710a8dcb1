"""Admission control (hub.api.admission): past ``max_concurrent_requests`` a request waits
on the event loop, and past ``request_queue_seconds`` it is answered 503 ``overloaded``
with Retry-After; ``/health`` never waits. Settings that would let a request in without a
thread or a connection for it are refused at load time."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from hub.api.admission import Admission
from hub.errors import ConfigError
from hub.settings import HubSettings


async def _call(app: Any, path: str) -> dict[str, Any]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "path": path, "method": "GET"}, receive, send)
    start = sent[0]
    return {"status": start["status"], "headers": dict(start["headers"]),
            "body": b"".join(m.get("body", b"") for m in sent[1:])}


def test_request_over_the_limit_waits_then_503_overloaded_with_retry_after() -> None:
    release = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] != "/health":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    admission = Admission(slow, limit=1, wait=0.2)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        first = asyncio.create_task(_call(admission, "/v1/public/projects"))
        await asyncio.sleep(0.05)
        refused = await _call(admission, "/v1/me")
        health = await _call(admission, "/health")
        release.set()
        return await first, refused, health

    first, refused, health = asyncio.run(scenario())
    assert first["status"] == 200 and health["status"] == 200
    assert refused["status"] == 503
    assert json.loads(refused["body"])["error"] == "overloaded"
    assert int(refused["headers"][b"retry-after"]) > 0


def test_admission_wider_than_the_thread_or_connection_pool_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="max_concurrent_requests"):
        HubSettings.load(tmp_path, max_concurrent_requests=50, request_threads=40)
    with pytest.raises(ConfigError, match="max_concurrent_requests"):
        HubSettings.load(tmp_path, max_concurrent_requests=20, db_pool_size=5,
                         db_max_overflow=5)
    defaults = HubSettings.load(tmp_path)
    assert defaults.max_concurrent_requests == 16
    # The pool alone covers the requests in flight and the background threads (a
    # connection past the pool is closed on return: one new connection per request).
    assert defaults.db_pool_size >= defaults.max_concurrent_requests + 4
