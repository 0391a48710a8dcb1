"""Shared fixtures of the agency node tests: source files, initialised and enrolled nodes,
a hub's keys and signed requests."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import secrets
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from agency_node import keys as node_keys
from agency_node.api.app import create_app
from agency_node.config import SourceSection, update_hub_section
from agency_node.ingest.loader import run_ingest
from agency_node.ingest.plan import Choices
from agency_node.runtime import NodeRuntime
from agency_node.services.approvals import read_terms, record_decision
from agency_node.services.governance import pin_roster
from agency_node.services.stewards import add_steward
from agency_node.settings import NodeSettings
from agency_node.setup import init_node
from protocol.canonical import b64url_encode
from protocol.errors import ProtocolError
from protocol.governance import GovernanceDecision, new_roster, roster_digest, sign_statement
from protocol.keyfiles import ed25519_public_from_b64, key_id, public_key_to_b64
from protocol.project import ProjectTerms, project_digest
from protocol.signing import MemoryReplayGuard, sign, verify
from protocol.wire import (
    EnrollmentRequest,
    ExtractRequest,
    MatchRequest,
    StewardDecision,
    body_as,
    terms_digest,
)

with warnings.catch_warnings():
    # Starlette warns once, at import, that it prefers the httpx2 package over httpx; the
    # TestClient works the same with httpx, which is what the project depends on.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

HEADER = ["record_id", "first_name", "middle_name", "last_name", "dob", "sex", "ssn",
          "postal_code", "school_year", "grade_level", "gpa", "ell", "truth_id"]

PEOPLE: list[dict[str, str]] = [
    {"record_id": "K12-0001", "first_name": "Maria", "middle_name": "Elena",
     "last_name": "Garcia-Lopez", "dob": "03/07/2004", "sex": "F", "ssn": "223-45-6780",
     "postal_code": "23220-1234", "school_year": "2019", "grade_level": "9", "gpa": "3.4",
     "ell": "yes", "truth_id": "P1"},
    {"record_id": "K12-0002", "first_name": "William", "middle_name": "",
     "last_name": "O'Brien", "dob": "2003-11-21", "sex": "M", "ssn": "078-05-1121",
     "postal_code": "22030", "school_year": "2020", "grade_level": "10", "gpa": "2.9",
     "ell": "no", "truth_id": "P2"},
    {"record_id": "K12-0003", "first_name": "Zoë", "middle_name": "Q",
     "last_name": "Nguyen", "dob": "20050115", "sex": "F", "ssn": "",
     "postal_code": "24060", "school_year": "2020", "grade_level": "8", "gpa": "3.9",
     "ell": "no", "truth_id": "P3"},
    {"record_id": "K12-0004", "first_name": "DeShawn", "middle_name": "",
     "last_name": "Washington Jr", "dob": "07/04/2002", "sex": "M", "ssn": "345-67-8902",
     "postal_code": "23455", "school_year": "2021", "grade_level": "12", "gpa": "3.1",
     "ell": "no", "truth_id": "P4"},
]


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def source_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "k12.csv", PEOPLE)


@pytest.fixture
def make_node(tmp_path: Path) -> Callable[..., Path]:
    """Initialise a node (agency K12 by default) from a CSV path; returns the node dir."""

    def make(source: Path, *, agency: str = "K12", name: str = "node", **source_opts: Any) -> Path:
        node_dir = tmp_path / name
        init_node(node_dir, agency=agency, name=f"{agency} agency",
                  source=SourceSection(kind="csv", path=str(source), **source_opts))
        return node_dir

    return make


@pytest.fixture
def node_dir(make_node: Callable[..., Path], source_csv: Path) -> Path:
    return make_node(source_csv)


@pytest.fixture
def runtime(node_dir: Path) -> Iterator[NodeRuntime]:
    with NodeRuntime.open(node_dir) as opened:
        yield opened


@pytest.fixture
def fixed_now() -> dt.datetime:
    return dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


# --- an enrolled, loaded node with an approved project, and a hub that signs requests ---


PROJECT = "P-2026-001"
SALT = b64url_encode(b"s" * 32)


class Hub:
    """The hub's key pair and HPKE key, as a node knows them after enrollment."""

    def __init__(self) -> None:
        self.signing = Ed25519PrivateKey.generate()
        self.hpke = X25519PrivateKey.generate()
        #: The assembly role's key (docs/extracts.md): the one extract payloads are sealed to.
        self.assembly = X25519PrivateKey.generate()
        #: The assembly role's signing key: the only key extract requests are accepted from.
        self.assembly_signing = Ed25519PrivateKey.generate()

    @property
    def hpke_kid(self) -> str:
        return key_id(self.hpke.public_key())

    @property
    def assembly_kid(self) -> str:
        return key_id(self.assembly.public_key())

    @property
    def assembly_signing_kid(self) -> str:
        return key_id(self.assembly_signing.public_key())


@pytest.fixture(scope="session")
def hub() -> Hub:
    return Hub()


# --- governance: the roster a served node pins, and its members' signed decisions ---------


def member_key(label: str) -> Ed25519PrivateKey:
    """A governance member's key, derived from its label: the same in every module that
    imports this conftest (``from tests.agency_node.conftest import ALICE``)."""
    seed = hashlib.sha256(f"fedlink-test-governance-{label}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


ALICE, BOB, CAROL, MALLORY = (member_key(n) for n in ("alice", "bob", "carol", "mallory"))
#: Roster version 1 every served node pins: three members, quorum 2 (MALLORY is no member).
GENESIS = new_roster([("alice", ALICE.public_key()), ("bob", BOB.public_key()),
                      ("carol", CAROL.public_key())], quorum=2)


def pin_genesis(runtime: NodeRuntime) -> None:
    """Pin GENESIS (signed by a quorum of its members), as `fedlink node roster-sync
    --roster-fingerprint` would; pinning it again is a no-op."""
    pin_roster(runtime, [sign_statement(GENESIS, k) for k in (ALICE, BOB)],
               fingerprint=roster_digest(GENESIS), now=dt.datetime.now(dt.UTC))


def decide(key: Ed25519PrivateKey, project_terms: dict[str, Any] | ProjectTerms,
           verdict: str = "approve") -> dict[str, Any]:
    """A member's signed decision over the project terms of a match request."""
    terms = ProjectTerms.model_validate(project_terms)
    decision = GovernanceDecision(
        project_id=terms.project_id, decision=verdict,  # type: ignore[arg-type]
        reason="" if verdict == "approve" else "not proportionate", project_terms=terms,
        project_digest=project_digest(terms), decided_at=dt.datetime.now(dt.UTC))
    return sign_statement(decision, key).model_dump(mode="json")


def make_terms(project_id: str = PROJECT, **overrides: Any) -> dict[str, Any]:
    today = dt.date.today()
    terms: dict[str, Any] = {
        "project_id": project_id, "agency": "K12", "title": "Pathways to college",
        "public_summary": "How K-12 course taking relates to college enrollment.",
        "research_questions": ["Does 9th-grade GPA predict enrollment?"],
        "variables": ["grade_level", "gpa"], "years": [2019, 2020, 2021],
        "cohort": {"conditions": []},
        "term_start": (today - dt.timedelta(days=30)).isoformat(),
        "term_end": (today + dt.timedelta(days=365)).isoformat(),
        "matching_authorised": True, "allowable_uses": ["research"],
        "personnel": ["A. Researcher"], "disposition": "destroy",
    }
    terms.update(overrides)
    terms["terms_digest"] = terms_digest(terms)
    terms["status"] = "in_review"
    return terms


@pytest.fixture(scope="session")
def unpinned_template(tmp_path_factory: pytest.TempPathFactory, hub: Hub) -> Path:
    """Built once per session: a node with a secret, its records loaded, enrolled to
    ``hub``, PROJECT approved by its steward — no governance roster pinned yet."""
    base = tmp_path_factory.mktemp("served-template")
    return enrolled_node(base, write_csv(base / "k12.csv", PEOPLE), hub)


def enrolled_node(base: Path, source: Path, hub: Hub, choices: Choices | None = None) -> Path:
    """A node for agency K12 in ``base / "node"`` over the CSV ``source`` (mapped as
    detected, or as ``choices`` say): a secret, its records loaded, enrolled to ``hub``,
    PROJECT (make_terms()) approved by its steward; no governance roster pinned
    (pin_genesis)."""
    node_dir = base / "node"
    init_node(node_dir, agency="K12", name="K12 agency",
              source=SourceSection(kind="csv", path=str(source)), choices=choices)
    secret_file = base / "federation.secret"
    secret_file.write_text(secrets.token_hex(32))
    node_keys.import_federation_secret(node_dir, secret_file)
    node_keys.store_hub_material(node_dir, signing_public=hub.signing.public_key(),
                                 hpke_public=hub.hpke.public_key(), token="t" * 32,
                                 assembly_public=hub.assembly.public_key(),
                                 assembly_signing_public=hub.assembly_signing.public_key())
    update_hub_section(node_dir, url="http://hub.invalid",
                       signing_kid=key_id(hub.signing.public_key()), hpke_kid=hub.hpke_kid,
                       assembly_kid=hub.assembly_kid,
                       assembly_signing_kid=hub.assembly_signing_kid)
    with NodeRuntime.open(node_dir) as opened:
        run_ingest(opened.settings.node, opened.sessions, opened.audit)
        approve_locally(opened, make_terms())
    return node_dir


@pytest.fixture(scope="session")
def served_template(unpinned_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The unpinned template with GENESIS pinned: nodes are fail-closed on governance, so
    a node that serves PROJECT has a roster. Tests get a copy (``served_node``)."""
    node_dir = Path(shutil.copytree(unpinned_template,
                                    tmp_path_factory.mktemp("served-pinned") / "node"))
    with NodeRuntime.open(node_dir) as opened:
        pin_genesis(opened)
    return node_dir


@pytest.fixture
def served_node(served_template: Path, tmp_path: Path) -> Path:
    """A private copy of the served template (modes kept: 0700 directory, 0600 keys)."""
    return Path(shutil.copytree(served_template, tmp_path / "served"))


@pytest.fixture
def unpinned_node(unpinned_template: Path, tmp_path: Path) -> Path:
    """A private copy of the template before any roster was pinned (for the tests of a node
    without governance: refused by default, steward-only when explicitly opted out)."""
    return Path(shutil.copytree(unpinned_template, tmp_path / "unpinned"))


#: The test data steward's own key (docs/agency-node.md, "Steward keys").
STEWARD = member_key("steward")


def register_steward(runtime: NodeRuntime) -> Ed25519PrivateKey:
    """Register STEWARD on the node, as agency IT does with `fedlink node steward add`
    (again is a no-op); STEWARD, to sign decisions with."""
    add_steward(runtime, label="Kay, test data steward",
                public_key=public_key_to_b64(STEWARD.public_key()), now=dt.datetime.now(dt.UTC))
    return STEWARD


def steward_key_file(path: Path) -> Path:
    """STEWARD as the steward keeps it: a PKCS#8 PEM file, mode 0600 (`--steward-key`)."""
    path.write_bytes(STEWARD.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    path.chmod(0o600)
    return path


def approve_locally(runtime: NodeRuntime, terms: dict[str, Any], decision: str = "approve") -> None:
    checked = read_terms(terms, project_id=terms["project_id"], runtime=runtime)
    record_decision(runtime, checked, decision=decision,  # type: ignore[arg-type]
                    reason="" if decision == "approve" else "no",
                    now=dt.datetime.now(dt.UTC), steward_kid=key_id(STEWARD.public_key()))


@pytest.fixture
def api(served_node: Path) -> Iterator[TestClient]:
    app = create_app(NodeSettings.load(served_node))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def match_body(project_id: str = PROJECT, **overrides: Any) -> dict[str, Any]:
    today = dt.date.today()
    scope = {
        "agency": "K12", "variables": ["grade_level", "gpa"], "first_year": 2019,
        "last_year": 2021, "cohort": {"conditions": []},
        "term_start": (today - dt.timedelta(days=30)).isoformat(),
        "term_end": (today + dt.timedelta(days=365)).isoformat(),
        "matching_authorised": True,
    }
    scope.update(overrides.pop("scope", {}))
    # The project terms list the digest of the terms make_terms() builds for this scope
    # (what approve_locally() approves by default) and one other agency.
    approved = make_terms(project_id, cohort=scope["cohort"], term_start=scope["term_start"],
                          term_end=scope["term_end"])
    project = {"project_id": project_id, "term_start": scope["term_start"],
               "term_end": scope["term_end"],
               "agencies": sorted([{"agency": "DSS", "terms_digest": "11" * 32},
                                   {"agency": overrides.get("agency", "K12"),
                                    "terms_digest": approved["terms_digest"]}],
                                  key=lambda entry: entry["agency"])}
    body = {"project_id": project_id, "agency": "K12", "project_salt": SALT,
            "project_terms": project, "scope": scope, "run_id": "run-1"}
    body.update(overrides)
    request = MatchRequest.model_validate(body)
    if "governance" not in overrides:
        # A quorum of GENESIS approved exactly these project terms (as the hub relays the
        # members' signed decisions); tests of governance refusals replace the list.
        approvals = (decide(k, request.project_terms) for k in (ALICE, BOB))
        request = MatchRequest.model_validate({**body, "governance": list(approvals)})
    return request.model_dump(mode="json")


def extract_body(
    assignments: list[tuple[str, str]], recipient_kid: str, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project_id": PROJECT, "agency": "K12", "run_id": "run-1",
        "variables": ["grade_level", "gpa"], "first_year": 2019, "last_year": 2021,
        "assignments": assignments, "recipient_kid": recipient_kid,
    }
    body.update(overrides)
    return ExtractRequest.model_validate(body).model_dump(mode="json")


def signed(body: dict[str, Any], typ: str, key: Ed25519PrivateKey, *,
           now: int | None = None, ttl: int = 300) -> bytes:
    return sign(body, typ=typ, private_key=key, ttl_seconds=ttl,
                now=int(time.time()) if now is None else now).to_json()


def governed_match(hub: Any, variables: list[str]) -> bytes:
    """A hub-signed match request for ``variables`` whose project terms carry the digest of
    the terms make_terms(variables=…) approves, with a quorum of GENESIS approving them."""
    body = match_body(scope={"variables": variables})
    scope = body["scope"]
    approved = make_terms(variables=variables, cohort=scope["cohort"],
                          term_start=scope["term_start"], term_end=scope["term_end"])
    for entry in body["project_terms"]["agencies"]:
        if entry["agency"] == "K12":
            entry["terms_digest"] = approved["terms_digest"]
    body["governance"] = [decide(k, body["project_terms"]) for k in (ALICE, BOB)]
    return signed(body, "match_request", hub.signing)


def assembly_extract(hub: Any, pids: list[str], variables: list[str]) -> bytes:
    """An extract request for ``pids`` and ``variables``, signed by the assembly key."""
    assignments = [(pid, f"person-{n:04d}") for n, pid in enumerate(pids)]
    body = extract_body(assignments, hub.assembly_kid, variables=variables)
    return signed(body, "extract_request", hub.assembly_signing)


@pytest.fixture
def wire() -> SimpleNamespace:
    """The message helpers above, for test modules (conftest is not importable)."""
    return SimpleNamespace(
        PROJECT=PROJECT, SALT=SALT, make_terms=make_terms, approve_locally=approve_locally,
        match_body=match_body, extract_body=extract_body, signed=signed,
        decide=decide, pin_genesis=pin_genesis, GENESIS=GENESIS, APPROVERS=(ALICE, BOB),
        register_steward=register_steward, steward_key_file=steward_key_file,
        governed_match=governed_match, assembly_extract=assembly_extract,
    )


# --- a fake hub for enrollment and steward decisions --------------------------------------


class FakeHub:
    """The hub's node-facing endpoints, small and strict, as FastAPI on an httpx transport."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.enrollment_token = "enrol-" + secrets.token_hex(12)
        self.node_token = "node-" + secrets.token_hex(16)
        self.node_keys: dict[str, Any] = {}
        self.enrollments: list[EnrollmentRequest] = []
        self.terms: dict[str, dict[str, Any]] = {}
        self.decisions: list[StewardDecision] = []
        self.burned = False
        app = FastAPI()

        @app.exception_handler(HTTPException)
        async def _error(_request: Request, exc: HTTPException) -> JSONResponse:
            code, detail = exc.detail
            return JSONResponse({"error": code, "detail": detail}, status_code=exc.status_code)

        def bearer(authorization: str | None) -> None:
            if authorization != f"Bearer {self.node_token}":
                raise HTTPException(401, ("unauthorised", "bad node token"))

        @app.post("/v1/enrollment")
        async def enrollment(request: Request) -> dict[str, Any]:
            message = EnrollmentRequest.model_validate_json(await request.body())
            if message.enrollment_token != self.enrollment_token:
                raise HTTPException(403, ("bad_token", "unknown enrollment token"))
            if self.burned:
                raise HTTPException(409, ("token_used", "enrollment token already used"))
            self.burned = True
            self.enrollments.append(message)
            node_key = ed25519_public_from_b64(message.signing_public_key)
            self.node_keys[key_id(node_key)] = node_key
            return {
                "agency": message.agency,
                "hub_signing_public_key": public_key_to_b64(hub.signing.public_key()),
                "hub_signing_kid": key_id(hub.signing.public_key()),
                "hub_hpke_public_key": public_key_to_b64(hub.hpke.public_key()),
                "hub_hpke_kid": hub.hpke_kid,
                "assembly_hpke_public_key": public_key_to_b64(hub.assembly.public_key()),
                "assembly_hpke_kid": hub.assembly_kid,
                "assembly_signing_public_key": public_key_to_b64(
                    hub.assembly_signing.public_key()),
                "assembly_signing_kid": hub.assembly_signing_kid,
                "node_token": self.node_token,
            }

        @app.get("/v1/node/requests/{project_id}/terms")
        def terms(project_id: str, authorization: str | None = Header(None)) -> dict[str, Any]:
            bearer(authorization)
            if project_id not in self.terms:
                raise HTTPException(404, ("not_found", f"no request {project_id}"))
            return self.terms[project_id]

        @app.post("/v1/node/requests/{project_id}/decision")
        async def decision(project_id: str, request: Request,
                           authorization: str | None = Header(None)) -> dict[str, Any]:
            bearer(authorization)
            try:
                envelope = verify(await request.body(), keyring=self.node_keys,
                                  expected_typ="steward_decision",
                                  replay_guard=MemoryReplayGuard())
                message = body_as(envelope, StewardDecision)
            except ProtocolError as exc:
                raise HTTPException(401, (exc.reason, str(exc))) from None
            if message.terms_digest != self.terms[project_id]["terms_digest"]:
                raise HTTPException(409, ("terms_changed", "digest differs"))
            self.decisions.append(message)
            return {"project_id": project_id, "status": "in_review"}

        self.app = app
        self._client = TestClient(app)

    def transport(self) -> Any:
        """A sync httpx transport that hands each request to the fake hub app."""
        def handle(request: httpx.Request) -> httpx.Response:
            answer = self._client.request(request.method, request.url.raw_path.decode(),
                                          headers=dict(request.headers),
                                          content=request.content)
            return httpx.Response(answer.status_code, headers=answer.headers,
                                  content=answer.content)

        return httpx.MockTransport(handle)


@pytest.fixture
def fake_hub(hub: Hub) -> FakeHub:
    return FakeHub(hub)


def fixed_key_person_node(base: Path, hub: Any, rows: list[dict[str, str]],
                          header: list[str]) -> Path:
    """An enrolled, roster-pinned node of ``rows`` keyed by ``state_student_id`` per
    ``school_year``, with a fixed pseudonym key: its pids, so the orders and streams tests
    compare, are the same each run."""
    from agency_node.keys import PSEUDONYM_KEY, write_private

    source = write_csv(base / "k12.csv", rows, header)
    node_dir = enrolled_node(base, source, hub, Choices(
        person_id="state_student_id", period_column="school_year", year_column=""))
    write_private(node_dir / PSEUDONYM_KEY, bytes(range(32)), replace=True)
    with NodeRuntime.open(node_dir) as runtime:
        pin_genesis(runtime)
    return node_dir
