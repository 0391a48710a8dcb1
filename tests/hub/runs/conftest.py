"""A federation in one process for the linkage-run tests: the real hub (``make_hub``) and
two real agency nodes (K12, HE) made from ``fedlink synth`` files, enrolled with that hub,
each served in-process through ``httpx.ASGITransport``; a governance roster (the members'
own keys, signed by a quorum) every node pinned, as nodes are fail-closed on governance; a
project both stewards (signed, on their nodes) and a quorum of members (signed with their
keys) approved; and a linkage worker whose node client routes each node's loopback URL to
its app (any other address goes to the real network, so a closed port is a node that is
down)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from agency_node import keys as node_keys
from agency_node.api.app import create_app as create_node_app
from agency_node.config import SourceSection
from agency_node.hub_client import HubClient as NodeHubClient
from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.services.approvals import read_terms, record_decision, steward_decide
from agency_node.services.enrollment import enroll
from agency_node.services.governance import sync_from_hub
from agency_node.settings import NodeSettings
from agency_node.setup import init_node
from agency_node.store.models import IssuedPid, Record
from fedlink.synth import generate, write
from hub.db.models import Agency
from hub.node_client import make_node_http_client
from hub.services.run_worker import LinkageWorker
from protocol.governance import roster_digest
from protocol.keyfiles import key_id
from tests.agency_node.conftest import register_steward

HUB_URL = "http://127.0.0.1:8100"
#: Agency → (synthetic file, the loopback URL its node is registered under).
NODES = {"K12": ("k12", "http://127.0.0.1:18101"), "HE": ("highered", "http://127.0.0.1:18102")}
#: Variables asked of each agency (attribute columns of the synthetic files).
VARIABLES = {"K12": ["grade", "test_score"], "HE": ["degree", "gpa"]}


class SyncASGITransport(httpx.BaseTransport):
    """``httpx.ASGITransport`` behind a synchronous client: the hub's worker is threaded
    and synchronous, so each request runs the node app in an event loop of its own."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1

        async def call() -> tuple[int, httpx.Headers, bytes]:
            response = await self._asgi.handle_async_request(request)
            body = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
            return response.status_code, response.headers, body

        status, headers, body = asyncio.run(call())
        return httpx.Response(status, headers=headers, content=body)


class Router(httpx.BaseTransport):
    """Sends ``host:port`` to its transport; anything else to the real network."""

    def __init__(self) -> None:
        self.routes: dict[str, httpx.BaseTransport] = {}
        self._network = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.url.host}:{request.url.port}"
        return self.routes.get(key, self._network).handle_request(request)

    def close(self) -> None:
        self._network.close()


@pytest.fixture(scope="session")
def synth_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    write(generate(300, 0), out)
    return out


@pytest.fixture(scope="session")
def node_templates(synth_files: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both nodes initialised, holding one federation secret, ingested — not enrolled."""
    base = tmp_path_factory.mktemp("node-templates")
    secret = base / "federation.secret"
    secret.write_text(secrets.token_hex(32))
    for agency, (stem, _url) in NODES.items():
        node_dir = base / agency
        init_node(node_dir, agency=agency, name=f"{agency} agency",
                  source=SourceSection(kind="csv", path=str(synth_files / f"{stem}.csv")))
        node_keys.import_federation_secret(node_dir, secret)
        with NodeRuntime.open(node_dir) as runtime:
            run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
    return base


def year_span(catalog: list[dict[str, Any]], agency: str) -> tuple[int, int]:
    """The longest run of consecutive years every asked variable of ``agency`` covers."""
    years = set.intersection(*[set(v["years"]) for v in catalog
                               if v["agency"] == agency and v["variable"] in VARIABLES[agency]])
    best: tuple[int, int] = (0, -1)
    for start in sorted(years):
        end = start
        while end + 1 in years:
            end += 1
        if end - start > best[1] - best[0]:
            best = (start, end)
    return best


@dataclass
class Federation:
    hub: Any
    nodes: dict[str, Path]
    router: Router
    researcher: str
    governance: list[str]
    request_id: str = ""
    transports: dict[str, SyncASGITransport] = field(default_factory=dict)
    #: The governance members' own keys, once :meth:`govern` registered them.
    member_keys: list[Ed25519PrivateKey] = field(default_factory=list)

    def agreement(self, **overrides: Any) -> dict[str, Any]:
        auth = self.hub.auth(self.researcher)
        catalog = self.hub.client.get("/v1/catalog", headers=auth).json()
        today = dt.date.today()
        variables = []
        for agency in NODES:
            first, last = year_span(catalog, agency)
            variables.append({"agency": agency, "variables": VARIABLES[agency],
                              "first_year": first, "last_year": last})
        return self.hub.agreement(
            variables=variables, agency_contacts=[{"agency": "K12", "name": "Kay",
                                                   "email": "kay@k12.example"}],
            term_start=(today - dt.timedelta(days=30)).isoformat(),
            term_end=(today + dt.timedelta(days=365)).isoformat(), **overrides)

    def govern(self) -> list[Ed25519PrivateKey]:
        """Governance as a federation sets it up (once): each member registers a key of
        their own, the roster (quorum 2) is signed by both and submitted, and every node
        pins it by its fingerprint (`fedlink node roster-sync --roster-fingerprint`)."""
        if not self.member_keys:
            keys, roster = self.hub.roster(self.governance)
            for agency in NODES:
                with self.runtime(agency) as runtime, self.node_hub_client(agency) as client:
                    sync_from_hub(runtime, client.fetch_governance(),
                                  now=dt.datetime.now(dt.UTC), fingerprint=roster_digest(roster))
            self.member_keys = keys
        return self.member_keys

    def approved_project(self, **overrides: Any) -> str:
        """A request both nodes' stewards and a quorum of governance members (signed, with
        the roster every node pinned) approved."""
        self.govern()
        response = self.hub.client.post("/v1/requests", json=self.agreement(**overrides),
                                        headers=self.hub.auth(self.researcher))
        assert response.status_code == 201, response.text
        request_id = str(response.json()["id"])
        submitted = self.hub.client.post(f"/v1/requests/{request_id}/submit",
                                         headers=self.hub.auth(self.researcher))
        assert submitted.status_code == 200, submitted.text
        for agency in NODES:
            with self.runtime(agency) as runtime, self.node_hub_client(agency) as client:
                steward_decide(runtime, client, project_id=request_id, decision="approve",
                               confirm=lambda _terms: True,
                               steward_key=register_steward(runtime))
        for token, key in zip(self.governance, self.govern(), strict=True):
            signed = self.hub.signed_review(request_id, token, key)
            assert signed.status_code == 201, signed.text
        assert self.hub.status(request_id, self.researcher) == "approved"
        self.request_id = request_id
        return request_id

    def runtime(self, agency: str) -> Any:
        return NodeRuntime.open(self.nodes[agency])

    def node_hub_client(self, agency: str) -> NodeHubClient:
        return NodeHubClient(HUB_URL, token=node_keys.load_hub_token(self.nodes[agency]),
                             transport=self.hub.client._transport)

    def withdraw_on_node(self, agency: str, request_id: str) -> None:
        """The agency's steward denies the project on the node (the hub is not told)."""
        with self.runtime(agency) as runtime, self.node_hub_client(agency) as client:
            terms = read_terms(client.fetch_terms(request_id), project_id=request_id,
                               runtime=runtime)
            record_decision(runtime, terms, decision="deny", reason="consent withdrawn",
                            now=dt.datetime.now(dt.UTC),
                            steward_kid=key_id(register_steward(runtime).public_key()))

    def move_node(self, agency: str, url: str) -> None:
        """Register ``agency`` under another URL (e.g. a port nobody listens on)."""
        with self.hub.ctx.session_factory() as session:
            session.execute(update(Agency).where(Agency.code == agency).values(url=url))
            session.commit()

    def start_run(self, request_id: str | None = None) -> dict[str, Any]:
        response = self.hub.client.post(f"/v1/requests/{request_id or self.request_id}/runs",
                                        headers=self.hub.auth(self.governance[0]))
        assert response.status_code == 202, response.text
        return dict(response.json())

    def run(self, run_id: str, request_id: str | None = None) -> dict[str, Any]:
        response = self.hub.client.get(
            f"/v1/requests/{request_id or self.request_id}/runs/{run_id}",
            headers=self.hub.auth(self.governance[0]))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def worker(self, **kwargs: Any) -> LinkageWorker:
        client = make_node_http_client(self.hub.ctx.settings, transport=self.router)
        return LinkageWorker(self.hub.ctx, client=client,
                             worker_id=kwargs.pop("worker_id", "test-worker"), **kwargs)

    def source_rows(self, agency: str) -> list[dict[str, str]]:
        """The agency's synthetic source file (identity values and truth ids)."""
        source = self.nodes[agency].parent / "synth" / f"{NODES[agency][0]}.csv"
        with source.open(encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def truth(self, agency: str) -> dict[str, str]:
        """The node's issued pids of the project → the synthetic truth id of each record."""
        truth = {row["record_id"]: row["truth_id"] for row in self.source_rows(agency)}
        with self.runtime(agency) as runtime, runtime.sessions() as session:
            rows = session.execute(
                select(IssuedPid.pid, Record.record_id)
                .join(Record, Record.id == IssuedPid.record_pk)
                .where(IssuedPid.project_id == self.request_id))
            return {pid: truth[record_id] for pid, record_id in rows}


@pytest.fixture
def federation(make_hub: Any, node_templates: Path, synth_files: Path,
               tmp_path: Path) -> Iterator[Federation]:
    hub = make_hub(node_retries=2, node_retry_backoff_seconds=0.0)
    shutil.copytree(synth_files, tmp_path / "synth")
    router = Router()
    nodes: dict[str, Path] = {}
    apps: list[Any] = []
    for agency, (_stem, url) in NODES.items():
        node_dir = Path(shutil.copytree(node_templates / agency, tmp_path / agency))
        nodes[agency] = node_dir
        added = hub.client.post("/v1/agencies", headers=hub.auth(hub.admin_token),
                                json={"code": agency, "name": f"{agency} agency", "url": url})
        assert added.status_code == 201, added.text
        with NodeRuntime.open(node_dir) as runtime, \
                NodeHubClient(HUB_URL, transport=hub.client._transport) as client:
            enroll(runtime, client, hub_url=HUB_URL, token=added.json()["enrollment_token"])
        apps.append(create_node_app(NodeSettings.load(node_dir)))
        transport = SyncASGITransport(apps[-1])
        router.routes[url.removeprefix("http://")] = transport
    federation = Federation(
        hub=hub, nodes=nodes, router=router, researcher=hub.token("researcher"),
        governance=[hub.token("governance"), hub.token("governance")],
    )
    federation.transports = {a: router.routes[u.removeprefix("http://")]  # type: ignore[misc]
                             for a, (_s, u) in NODES.items()}
    yield federation
    router.close()
    for app in apps:
        app.state.services.runtime.engine.dispose()
