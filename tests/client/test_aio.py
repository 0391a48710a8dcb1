"""fedlink_client.aio.AsyncClient: the same calls awaited — against the real hub app over
httpx.ASGITransport, its retries, pagination and download."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from fedlink_client import AsyncClient, Conflict, HubFailed, RetryPolicy

Hub = Any  # tests/hub/conftest.py


def test_async_researcher_calls_against_the_real_hub_app(hub: Hub) -> None:
    token = hub.token("researcher", email="ada@uni.example")

    async def flow() -> None:
        transport = httpx.ASGITransport(app=hub.app)
        async with AsyncClient("http://hub.test", token=token, transport=transport,
                               from_env=False) as client:
            assert (await client.me()).role == "researcher"
            assert {v.agency for v in await client.catalog()} == {"K12", "HE"}
            created = await client.create_request(hub.agreement())
            submitted = await client.submit_request(created.id)
            assert submitted.status == "submitted"
            with pytest.raises(Conflict) as raised:
                await client.submit_request(created.id)
            assert raised.value.exit_code == 5
            assert (await client.get_request(created.id)).id == created.id

    asyncio.run(flow())


def test_async_retries_get_but_not_post() -> None:
    seen: list[str] = []
    sleeps: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) == 1 or request.method == "POST":
            return httpx.Response(503, json={"error": "busy", "detail": "later"})
        return httpx.Response(200, json={"id": 1, "name": "A", "role": "researcher"})

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def flow() -> None:
        async with AsyncClient("http://hub.test", transport=httpx.MockTransport(handle),
                               retry=RetryPolicy(retries=2), sleep=sleep,
                               from_env=False) as client:
            assert (await client.me()).id == 1
            with pytest.raises(HubFailed):
                await client.submit_request("P-1")

    asyncio.run(flow())
    assert seen == ["GET", "GET", "POST"] and len(sleeps) == 1


def test_async_pages_and_download(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", "x\n")
    bundle = buffer.getvalue()
    digest = hashlib.sha256(bundle).hexdigest()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/public/projects":
            offset = int(request.url.params["offset"])
            return httpx.Response(200, json={
                "approved_projects": [{"id": f"P-{offset}"}],
                "page": {"next_offset": offset + 1 if offset < 2 else None}})
        if request.url.path.endswith("/download"):
            return httpx.Response(200, content=bundle, headers={"X-Fedlink-SHA256": digest})
        return httpx.Response(200, json={"id": "X-1", "project_id": "P-1",
                                         "status": "available", "sha256": digest})

    async def flow() -> list[str]:
        async with AsyncClient("http://hub.test", transport=httpx.MockTransport(handle),
                               from_env=False) as client:
            ids = [p.id async for p in client.public_projects(page_size=1)]
            got = await client.download_extract("X-1", tmp_path)
            assert got.files == 1 and (tmp_path / "X-1" / "a.csv").read_text() == "x\n"
            return ids

    assert asyncio.run(flow()) == ["P-0", "P-1", "P-2"]
