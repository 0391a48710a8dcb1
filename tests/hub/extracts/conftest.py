"""A small federation for the extract tests: the hub under test and two *real* agency nodes
(schools SCH and college COL, in process), enrolled, with a governance roster both nodes
pinned (nodes are fail-closed on governance), a project approved by both stewards
(node-signed) and a quorum of members (signed with their own keys), pids issued by real
match requests carrying those signed decisions, and a succeeded linkage run inserted
through the runs persistence (clusters from the synthetic truth)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agency_node import keys as node_keys
from agency_node.api.app import create_app as create_node_app
from agency_node.config import SourceSection
from agency_node.hub_client import HubClient as NodeHubClient
from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.services.approvals import steward_decide
from agency_node.services.classification import classify
from agency_node.services.enrollment import enroll
from agency_node.services.governance import sync_from_hub
from agency_node.settings import NodeSettings
from agency_node.setup import init_node
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import OPERATOR
from hub.persistence import jobs as job_store
from hub.persistence import requests as request_store
from hub.persistence import runs as run_store
from hub.services.governance import project_decisions
from hub.services.requests import move
from hub.services.terms import request_project_terms
from protocol.governance import roster_digest
from protocol.keys import pseudonymous_id
from protocol.signing import sign
from protocol.wire import MatchRequest, ProjectScope
from tests.agency_node.conftest import register_steward

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

FIRST = ["Maria", "William", "Zoe", "DeShawn", "Aiko", "Bruno", "Chidi", "Dana", "Elif",
         "Farid", "Greta", "Hamza", "Ines"]
LAST = ["Garcia", "OBrien", "Nguyen", "Washington", "Tanaka", "Silva", "Okafor", "Levi",
        "Yilmaz", "Haddad", "Berg", "Khan", "Costa"]
SCHOOLS = ["Oak", "Oak", "Oak", "Oak", "Oak", "Elm", "Elm", "Elm", "Elm", "Elm", "Pine",
           "Oak", "Elm"]
COUNTIES = ["Fairfax", "Fairfax", "Fairfax", "Fairfax", "Fairfax", "Henrico", "Henrico",
            "Henrico", "Henrico", "Arlington", "Henrico", "Fairfax", "Fairfax"]
#: People 0–9 are in both agencies, 10–11 only in SCH, 12 only in COL.
IN_SCH = range(0, 12)
IN_COL = [*range(0, 10), 12]


def _person(i: int) -> dict[str, str]:
    return {"first_name": FIRST[i], "last_name": LAST[i],
            "dob": f"2004-{1 + i % 12:02d}-{10 + i:02d}", "sex": "F" if i % 2 else "M",
            "ssn": f"2{i:02d}-4{i % 10}-67{i:02d}"}


def _write(path: Path, header: list[str], rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def sch_rows() -> list[dict[str, Any]]:
    return [{"record_id": f"SCH-{1000 + i}", **_person(i), "school_year": 2019 + i % 2,
             "grade_level": 9 + i % 4, "gpa": f"{2.0 + (i % 7) * 0.3:.1f}",
             "school": SCHOOLS[i], "ell": "yes" if i % 3 == 0 else "no"} for i in IN_SCH]


def col_rows() -> list[dict[str, Any]]:
    return [{"record_id": f"COL-{5000 + i}", **_person(i), "enroll_year": 2021,
             "enrolled": "true", "credits": 12 + i, "county": COUNTIES[i]} for i in IN_COL]


SOURCE_VALUES = [b"SCH-10", b"COL-50", *(n.encode() for n in FIRST + LAST),
                 *(_person(i)["ssn"].encode() for i in range(13)),
                 *(_person(i)["dob"].encode() for i in range(13))]


@dataclass
class Node:
    agency: str
    dir: Path
    url: str
    client: TestClient
    runtime: NodeRuntime  # the node's store, for its steward's decisions
    truth: dict[str, int]  # record id → person index


@dataclass
class Federation:
    hub: Any
    nodes: dict[str, Node]
    researcher: tuple[int, str]
    governance: list[str]
    stewards: dict[str, str] = field(default_factory=dict)
    #: The governance members' own keys, once :meth:`govern` registered them.
    member_keys: list[Ed25519PrivateKey] = field(default_factory=list)
    #: Identity values and local record ids the nodes hold: never in an extract.
    source_values: list[bytes] = field(default_factory=lambda: list(SOURCE_VALUES))

    def transport(self, rewrite: Any = None, *, signer: Any = "node") -> httpx.MockTransport:
        """Routes the hub's node requests to the node apps (by port).

        ``rewrite(agency, response_body)`` may tamper with an extract answer's body
        (the :class:`protocol.wire.ExtractResponse`) or return None to leave the answer as
        it is; a changed body is then signed again by
        ``signer``: ``"node"`` (the answering node's own key — a node that misbehaves),
        another :class:`Node` (its key), None (the envelope kept, not re-signed — tampering
        in transit) or ``"bare"`` (the body alone, no envelope).
        """
        by_port = {httpx.URL(n.url).port: n for n in self.nodes.values()}

        def handle(request: httpx.Request) -> httpx.Response:
            node = by_port[request.url.port]
            answer = node.client.request(request.method, request.url.path,
                                         content=request.content,
                                         headers={"Content-Type": "application/json"})
            if rewrite is not None and request.url.path == "/v1/extracts" \
                    and answer.status_code == 200:
                envelope = answer.json()
                body = rewrite(node.agency, envelope["body"])
                if body is None:  # this answer is left as the node sent it
                    return httpx.Response(200, content=answer.content)
                if signer == "bare":
                    return httpx.Response(200, json=body)
                key_of = node if signer == "node" else signer
                if key_of is None:
                    return httpx.Response(200, json={**envelope, "body": body})
                signed = sign(body, typ=envelope["typ"],
                              private_key=node_keys.load_signing_key(key_of.dir))
                return httpx.Response(200, content=signed.to_json())
            return httpx.Response(answer.status_code, headers=answer.headers,
                                  content=answer.content)

        return httpx.MockTransport(handle)

    def api_extract(self, project: str, **body: Any) -> dict[str, Any]:
        """``POST /v1/extracts`` as the researcher (202, ``building``), then the assembly
        role builds it (in process, as `fedlink hub assembler run` would); its metadata."""
        auth = self.hub.auth(self.researcher[1])
        response = self.hub.client.post("/v1/extracts", json={"project_id": project, **body},
                                        headers=auth)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "building"
        self.hub.assemble(self.transport())
        extract = self.hub.client.get(f"/v1/extracts/{response.json()['id']}", headers=auth)
        assert extract.status_code == 200, extract.text
        return dict(extract.json())

    def client(self, rewrite: Any = None, *, signer: Any = "node") -> httpx.Client:
        return httpx.Client(transport=self.transport(rewrite, signer=signer))

    def agreement(self, **overrides: Any) -> dict[str, Any]:
        today = dt.date.today()
        body = self.hub.agreement(
            variables=[
                {"agency": "SCH", "variables": ["grade_level", "gpa", "school", "ell"],
                 "first_year": 2019, "last_year": 2020},
                {"agency": "COL", "variables": ["enrolled", "credits", "county"],
                 "first_year": 2021, "last_year": 2021},
            ],
            agency_contacts=[{"agency": "SCH", "name": "Kay", "email": "kay@sch.example"}],
            term_start=str(today - dt.timedelta(days=30)),
            term_end=str(today + dt.timedelta(days=365)),
            personnel=[{"name": "Dr Ada", "role": "PI", "institution": "U",
                        "email": "ada@uni.example"},
                       {"name": "Bo", "role": "RA", "institution": "U",
                        "email": "bo@uni.example"}],
        )
        body.update(overrides)
        return body

    def node_hub_client(self, node: Node) -> NodeHubClient:
        return NodeHubClient("http://hub.test", token=node_keys.load_hub_token(node.dir),
                             transport=self.hub.client._transport)

    def govern(self) -> list[Ed25519PrivateKey]:
        """Once per federation: the members register keys of their own, submit the roster
        they all signed, and both nodes pin it by its fingerprint (as `fedlink node
        roster-sync --roster-fingerprint` does)."""
        if not self.member_keys:
            keys, roster = self.hub.roster(self.governance)
            for node in self.nodes.values():
                with self.node_hub_client(node) as client:
                    sync_from_hub(node.runtime, client.fetch_governance(),
                                  fingerprint=roster_digest(roster), now=dt.datetime.now(dt.UTC))
            self.member_keys = keys
        return self.member_keys

    def approved_project(self, **overrides: Any) -> str:
        """Approved by both stewards (on their nodes) and every member (signed)."""
        hub, token = self.hub, self.researcher[1]
        keys = self.govern()
        project = hub.submitted_request(token, **self.agreement(**overrides))
        for node in self.nodes.values():
            with self.node_hub_client(node) as client:
                steward_decide(node.runtime, client, project_id=project, decision="approve",
                               confirm=lambda _terms: True,
                               steward_key=register_steward(node.runtime))
        for gov, key in zip(self.governance, keys, strict=True):
            signed = hub.signed_review(project, gov, key)
            assert signed.status_code == 201, signed.text
        assert hub.status(project, token) == "approved"
        return project

    def pids(self, project: str) -> dict[str, dict[str, int]]:
        """Send each node a signed match request; agency → {pid: person index}."""
        ctx = self.hub.ctx
        with ctx.session_factory() as session:
            request = request_store.get_request(session, request_id=project)
            assert request is not None
            salt, dsa = request.project_salt, request.dsa
            terms = request_project_terms(request)
            decisions = project_decisions(session, request)  # the members' signed approvals
        found: dict[str, dict[str, int]] = {}
        for entry in dsa["variables"]:
            node = self.nodes[entry["agency"]]
            message = MatchRequest(
                project_id=project, agency=node.agency, project_salt=salt, run_id="match-1",
                project_terms=terms, governance=decisions,
                scope=ProjectScope(agency=node.agency, variables=tuple(entry["variables"]),
                                   first_year=entry["first_year"], last_year=entry["last_year"],
                                   term_start=dsa["term_start"], term_end=dsa["term_end"],
                                   matching_authorised=True))
            envelope = sign(message, typ=MatchRequest.TYP, private_key=ctx.keys.signing)
            answer = node.client.post("/v1/match-requests", content=envelope.to_json())
            assert answer.status_code == 200, answer.text
            issued = set(pa.ipc.open_stream(io.BytesIO(answer.content)).read_all()
                         .column("pid").to_pylist())
            key = node_keys.load_pseudonym_key(node.dir)
            mapping = {pseudonymous_id(key, project, rid): person
                       for rid, person in node.truth.items()}
            assert set(mapping) == issued
            found[node.agency] = mapping
        return found

    def ready_project(self, **overrides: Any) -> tuple[str, str, dict[str, dict[str, int]]]:
        """An approved project with a succeeded run whose clusters are the truth; returns
        (project id, run id, pids)."""
        project = self.approved_project(**overrides)
        pids = self.pids(project)
        run_id = f"run-{secrets.token_hex(4)}"
        ctx = self.hub.ctx
        with ctx.session_factory() as session:
            job = job_store.enqueue(session, kind="linkage_run", payload={"run_id": run_id},
                                    project_id=project, max_attempts=1, now=ctx.now())
            run = run_store.create_run(session, run_id=run_id, project_id=project,
                                       job_id=job.id, previous_status="approved",
                                       requested_by="operator", agencies=["COL", "SCH"],
                                       now=ctx.now())
            run_store.add_clusters(session, run_id=run_id, rows=[
                (agency, pid, person) for agency, mapping in pids.items()
                for pid, person in mapping.items()])
            by_person = {a: {p: pid for pid, p in m.items()} for a, m in pids.items()}
            run_store.add_links(session, run_id=run_id, rows=[
                ("COL", by_person["COL"][p], "SCH", by_person["SCH"][p], 14.5 + p / 10, 0.99)
                for p in range(10)])
            run.status, run.finished_at = "succeeded", ctx.now()
            run.report = {"matches": 10, "estimated_precision": 0.99}
            request = request_store.get_request(session, request_id=project, lock=True)
            assert request is not None
            move(session, ctx, OPERATOR, request, RequestStatus.LINKING, action="request.linking")
            move(session, ctx, OPERATOR, request, RequestStatus.READY, action="request.ready")
            session.commit()
        return project, run_id, pids


def _node(hub: Any, base: Path, agency: str, secret: Path, port: int,
          header: list[str], rows: list[dict[str, Any]]) -> Node:
    source = _write(base / f"{agency.lower()}.csv", header, rows)
    node_dir = base / agency.lower()
    init_node(node_dir, agency=agency, name=f"{agency} agency",
              source=SourceSection(kind="csv", path=str(source)))
    if "ell" in header:
        # Init proposes English-learner status restricted (outputs only); this
        # federation's steward releases it as confidential (docs/classification.md).
        classify(node_dir, variable="ell", level="confidential")
    node_keys.import_federation_secret(node_dir, secret)
    url = f"http://127.0.0.1:{port}"
    created = hub.client.post("/v1/agencies", headers=hub.auth(hub.admin_token),
                              json={"code": agency, "name": f"{agency} agency", "url": url})
    assert created.status_code == 201, created.text
    with NodeRuntime.open(node_dir) as runtime, NodeHubClient(
            "http://hub.test", transport=hub.client._transport) as client:
        enroll(runtime, client, hub_url="http://hub.test",
               token=created.json()["enrollment_token"])
        run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
    app = create_node_app(NodeSettings.load(node_dir))
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    truth = {row["record_id"]: int(row["record_id"].split("-")[1]) % 1000 for row in rows}
    return Node(agency=agency, dir=node_dir, url=url, client=client,
                runtime=NodeRuntime.from_settings(NodeSettings.load(node_dir)), truth=truth)


@pytest.fixture(scope="module")
def federation(module_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    hub = module_hub
    base = tmp_path_factory.mktemp("federation")
    secret = base / "federation.secret"
    secret.write_text(secrets.token_hex(32))
    identity = ["record_id", "first_name", "last_name", "dob", "sex", "ssn"]
    nodes = {
        "SCH": _node(hub, base, "SCH", secret, 8201,
                     [*identity, "school_year", "grade_level", "gpa", "school", "ell"],
                     sch_rows()),
        "COL": _node(hub, base, "COL", secret, 8202,
                     [*identity, "enroll_year", "enrolled", "credits", "county"], col_rows()),
    }
    researcher = hub.user("researcher", email="ada@uni.example")
    governance = [hub.token("governance"), hub.token("governance")]
    fed = Federation(hub=hub, nodes=nodes, researcher=researcher, governance=governance)
    fed.stewards = {code: hub.token("steward", agency=code) for code in nodes}
    yield fed
    for node in nodes.values():
        node.client.__exit__(None, None, None)
        node.runtime.engine.dispose()
