"""fedlink_client.client.Client: typed answers from the real hub app (in process, through
its ASGI transport), pagination, settings from the environment, the download path."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from fedlink_client import Client, IntegrityError, InvalidInput, NotFound, generate_key
from fedlink_client.models import CatalogVariable, Request

Hub = Any  # tests/hub/conftest.py


def _client(hub: Hub, token: str) -> Client:
    return Client("http://hub.test", token=token, transport=hub.client._transport,
                  from_env=False)


def test_researcher_flow_typed_against_the_real_hub(hub: Hub, tmp_path: Path) -> None:
    token = hub.token("researcher", email="ada@uni.example")
    agreement = tmp_path / "agreement.json"
    agreement.write_text(json.dumps(hub.agreement()))
    public = generate_key(tmp_path / "researcher.key")
    with _client(hub, token) as client:
        assert client.me().role == "researcher"
        catalog = client.catalog()
        assert all(isinstance(v, CatalogVariable) for v in catalog)
        assert {(v.agency, v.variable) for v in catalog} >= {("K12", "grade"), ("HE", "enrolled")}
        assert {v.agency for v in client.catalog("HE")} == {"HE"}
        created = client.create_request(agreement, recipient_key=public)
        assert isinstance(created, Request) and created.status == "draft"
        assert created.agreement["extract"]["recipient_public_key"] == public
        submitted = client.submit_request(created.id)
        assert submitted.status == "submitted"
        assert client.get_request(created.id).waiting_for
        assert [r.id for r in client.list_requests()] == [created.id]
        assert client.list_extracts() == []
        with pytest.raises(NotFound) as raised:
            client.get_request("P-nope")
        assert raised.value.code == "not_found" and raised.value.exit_code == 4


def test_an_agreement_file_that_is_not_json_is_invalid_input(tmp_path: Path) -> None:
    bad = tmp_path / "agreement.json"
    bad.write_text("{ title: nope")
    client = Client("http://hub.test", from_env=False,
                    transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    with client, pytest.raises(InvalidInput, match="is not JSON"):
        client.create_request(bad)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization", ""))
        return httpx.Response(200, json={"id": 1, "name": "A", "role": "researcher"})

    monkeypatch.setenv("FEDLINK_HUB_URL", "http://env.test")
    monkeypatch.setenv("FEDLINK_TOKEN", "from-env")
    with Client(transport=httpx.MockTransport(handle)) as client:
        assert client.base_url == "http://env.test"
        client.me()
    monkeypatch.delenv("FEDLINK_TOKEN")
    token = tmp_path / "token"
    token.write_text("from-file\n")
    token.chmod(0o600)
    monkeypatch.setenv("FEDLINK_TOKEN_FILE", str(token))
    with Client(transport=httpx.MockTransport(handle)) as client:
        client.me()
    with Client("http://x.test", transport=httpx.MockTransport(handle),
                from_env=False) as client:
        client.me()
    assert seen == ["Bearer from-env", "Bearer from-file", ""]
    token.chmod(0o644)
    with pytest.raises(InvalidInput, match="readable by others"):
        Client(transport=httpx.MockTransport(handle))


def test_public_projects_follow_the_pages() -> None:
    offsets: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        offsets.append(request.url.params["offset"])
        rows = [{"id": f"P-{offset + i}", "title": "t"} for i in range(2)]
        following = offset + 2 if offset < 4 else None
        return httpx.Response(200, json={"approved_projects": rows,
                                         "page": {"next_offset": following}})

    with Client("http://hub.test", transport=httpx.MockTransport(handle),
                from_env=False) as client:
        ids = [p.id for p in client.public_projects(page_size=2)]
    assert ids == [f"P-{i}" for i in range(6)] and offsets == ["0", "2", "4"]


def test_audit_events_follow_the_pages() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params["after_seq"])
        assert request.url.params["actor"] == "ada"
        events = [{"seq": after + i + 1, "action": "x"} for i in range(3 if after < 3 else 1)]
        return httpx.Response(200, json={"events": events, "total": 4,
                                         "next_after_seq": 3 if after == 0 else None})

    with Client("http://hub.test", transport=httpx.MockTransport(handle),
                from_env=False) as client:
        assert [e.seq for e in client.audit_events(page_size=3, actor="ada")] == [1, 2, 3, 4]


def _bundle() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tables/a.csv", "pid\n1\n")
    return buffer.getvalue()


def _serving(bundle: bytes, *, header: str | None = None, meta_sha: str | None = None,
             progress_total: bool = True) -> httpx.MockTransport:
    digest = hashlib.sha256(bundle).hexdigest()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/download"):
            headers = {"X-Fedlink-SHA256": header or digest}
            if progress_total:
                headers["Content-Length"] = str(len(bundle))
            return httpx.Response(200, content=bundle, headers=headers)
        return httpx.Response(200, json={"id": "X-1", "project_id": "P-1",
                                         "status": "available", "encryption": "hub",
                                         "sha256": meta_sha or digest})

    return httpx.MockTransport(handle)


def test_download_verifies_and_unpacks(tmp_path: Path) -> None:
    bundle = _bundle()
    received: list[tuple[int, int | None]] = []
    with Client("http://hub.test", transport=_serving(bundle), from_env=False) as client:
        got = client.download_extract("X-1", tmp_path,
                                      progress=lambda n, t: received.append((n, t)))
    assert got.folder == tmp_path / "X-1" and got.files == 1
    assert (tmp_path / "X-1" / "tables" / "a.csv").read_text() == "pid\n1\n"
    assert sum(n for n, _ in received) == len(bundle) and received[0][1] == len(bundle)


@pytest.mark.parametrize("where", ["header", "metadata"])
def test_download_with_a_wrong_sha256_keeps_nothing(tmp_path: Path, where: str) -> None:
    wrong = "0" * 64
    transport = _serving(_bundle(), header=wrong if where == "header" else None,
                         meta_sha=wrong if where == "metadata" else None)
    with Client("http://hub.test", transport=transport, from_env=False) as client, \
            pytest.raises(IntegrityError, match="SHA-256 mismatch"):
        client.download_extract("X-1", tmp_path)
    assert list(tmp_path.iterdir()) == []
