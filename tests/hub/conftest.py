"""Shared fixtures of the hub tests: a migrated database (SQLite, and PostgreSQL when
``FEDLINK_TEST_DATABASE_URL`` is set), an app with a controllable clock, and factories for
users with roles and tokens, enrolled agencies with node keys, agreements and requests."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Engine, event, text

from hub.api.app import create_app
from hub.assembly.build import assemble_extract, assembler_caller
from hub.assembly.context import AssemblyContext, assembly_context
from hub.assembly.keys import AssemblyKeys, create_assembly_keys
from hub.assembly.settings import AssemblySettings
from hub.assembly.worker import Assembler
from hub.db.engine import make_engine
from hub.db.migrate import upgrade_to_head
from hub.keys import HubKeys, create_hub_keys
from hub.persistence import training as training_store
from hub.services.context import HubContext
from hub.services.extract_build import start_extract
from hub.settings import HubSettings
from protocol.governance import (
    CriterionAnswer,
    GovernanceDecision,
    Roster,
    new_roster,
    sign_statement,
)
from protocol.keyfiles import public_key_to_b64
from protocol.project import ProjectTerms, project_digest
from protocol.signing import sign
from protocol.wire import EnrollmentRequest, StewardDecision

with warnings.catch_warnings():
    # TestClient works the same with httpx, which is what the project depends on.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PG_URL = os.environ.get("FEDLINK_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

CATALOG: dict[str, list[dict[str, Any]]] = {
    "K12": [
        {"name": "grade", "type": "integer", "years": list(range(2015, 2025)),
         "classification": "internal", "description": "Grade level"},
        {"name": "test_score", "type": "number", "years": list(range(2015, 2025)),
         "classification": "confidential", "description": "State test scale score"},
        {"name": "disability", "type": "boolean", "years": list(range(2015, 2025)),
         "classification": "restricted", "quasi_identifier": True},
    ],
    "HE": [
        {"name": "enrolled", "type": "boolean", "years": list(range(2016, 2025)),
         "classification": "confidential", "description": "Enrolled in a public college"},
        {"name": "degree", "type": "string", "years": [], "classification": "internal"},
    ],
}


class FakeClock:
    """Real time plus an adjustable offset, so tests can move past expiries."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hubdb") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[str | None]:
    """One fresh schema for the whole run, migrated once and dropped at the end."""
    if not PG_URL:
        yield None
        return
    schema = f"hub_test_{secrets.token_hex(4)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = _pg_engine(schema)
    upgrade_to_head(engine)
    engine.dispose()
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _pg_engine(schema: str) -> Engine:
    assert PG_URL
    return make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})


def _truncate(engine: Engine) -> None:
    """Empty every table and restart every sequence, as TRUNCATE … RESTART IDENTITY would.

    DELETE, children first, and ALTER SEQUENCE in one round trip: 6 ms on a test's few
    rows where TRUNCATE of the 34 tables took 90 ms (its per-table file work), about
    two minutes over the PostgreSQL leg's hub tests."""
    from hub.db.base import Base

    with engine.begin() as conn:
        sequences = [row[0] for row in conn.execute(text(
            "SELECT sequence_name FROM information_schema.sequences "
            "WHERE sequence_schema = current_schema()"))]
        statements = [f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)]
        statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
        conn.exec_driver_sql("; ".join(statements))


def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _open_engine(backend: str, directory: Path, template: Path,
                 schema: str | None) -> tuple[Engine, str]:
    if backend == "sqlite":
        path = directory / "hub.db"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        # Tests need no durability: skip fsync so the suite is CPU-bound, not disk-bound.
        event.listen(engine, "connect", _no_fsync)
        return engine, url
    assert schema is not None
    engine = _pg_engine(schema)
    _truncate(engine)
    # The schema travels in the URL too, so a CLI started on this URL sees the same tables.
    url = engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    return engine, str(url.render_as_string(hide_password=False))


@pytest.fixture(params=BACKENDS)
def hub_engine(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path,
               _pg_schema: str | None) -> Iterator[tuple[Engine, str]]:
    engine, url = _open_engine(request.param, tmp_path, _sqlite_template, _pg_schema)
    yield engine, url
    engine.dispose()


@dataclass
class Agency:
    code: str
    key: Ed25519PrivateKey
    token: str


@dataclass
class Hub:
    """A hub under test, with factories."""

    app: Any
    client: TestClient
    ctx: HubContext
    clock: FakeClock
    admin_token: str
    #: The assembly role (hub/assembly): its own directory and keys, never the app's.
    assembly_dir: Path
    assembly_keys: AssemblyKeys = field(repr=False)
    agencies: dict[str, Agency] = field(default_factory=dict)
    #: Tokens of the governance members created with :meth:`user` (they approve accounts).
    governance_tokens: list[str] = field(default_factory=list)

    # --- the assembly role --------------------------------------------------------------
    @property
    def assembly_key(self) -> X25519PrivateKey:
        """The assembly HPKE key (opens node extract payloads)."""
        return self.assembly_keys.hpke

    @property
    def assembly_signing(self) -> Ed25519PrivateKey:
        """The assembly signing key (the only key nodes accept on extract requests)."""
        return self.assembly_keys.signing

    def assembler(self) -> AssemblyContext:
        settings = AssemblySettings.load(self.assembly_dir, hub_dir=self.ctx.settings.dir)
        return assembly_context(self.ctx, settings, self.assembly_keys)

    def assemble(self, transport: Any = None) -> int:
        """Build every queued extract, as `fedlink hub assembler run` would (in process,
        node requests through ``transport`` or ``app.state.node_transport``)."""
        transport = transport or getattr(self.app.state, "node_transport", None)
        worker = Assembler(self.assembler(), worker_id="assembler:test", transport=transport)
        built = 0
        while worker.run_once():
            built += 1
        return built

    def build_extract(self, caller: Any, *, project_id: str, client: Any,
                      **kwargs: Any) -> Any:
        """Ask for an extract (the API's service) and build it at once with ``client``;
        the assembler's error, if any, is raised."""
        with self.ctx.session_factory() as session:
            extract = start_extract(session, self.ctx, caller, project_id=project_id,
                                    **kwargs)
            extract_id = extract.id
        return assemble_extract(self.assembler(), assembler_caller("assembler:test"),
                                extract_id=extract_id, client=client)

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return auth(token)

    @staticmethod
    def agreement(**overrides: Any) -> dict[str, Any]:
        return agreement(**overrides)

    # --- people ---------------------------------------------------------------------
    def user(self, role: str, *, agency: str | None = None, email: str | None = None,
             name: str | None = None) -> tuple[int, str]:
        body: dict[str, Any] = {"name": name or f"{role} {secrets.token_hex(2)}", "role": role}
        if agency:
            body["agency"] = agency
        if email:
            body["email"] = email
        invited = self.client.post("/v1/invitations", json=body, headers=auth(self.admin_token))
        assert invited.status_code == 201, invited.text
        response = self.client.post("/v1/invitations/redeem",
                                    json={"code": invited.json()["code"]})
        assert response.status_code == 201, response.text
        data = response.json()
        if data["status"] == "pending":
            self.approve_account(data["id"])
        if role == "governance":
            self.governance_tokens.append(data["token"])
        if role == "researcher":
            self.train(data["id"])
        return data["id"], data["token"]

    def train(self, user_id: int, *, expires_on: dt.date | None = None) -> None:
        """Record a current completion of every required training for ``user_id`` (safe
        people: researchers download and submit outputs only with it), straight into the
        store, so tests not about training keep their audit log and governance members."""
        today = self.clock().date()
        with self.ctx.session_factory() as session:
            for name in self.ctx.settings.required_training:
                training_store.add_record(
                    session, user_id=user_id, training=name,
                    completed_on=today - dt.timedelta(days=1),
                    expires_on=expires_on or today + dt.timedelta(days=3650),
                    recorded_by="operator", recorded_at=self.clock())
            session.commit()

    def approve_account(self, user_id: int) -> None:
        """The governance quorum approves a pending privileged account, each member with
        their own token (the governance members this hub's tests created; while there are
        fewer than the quorum, new members are invited first, as the hub's bootstrap)."""
        while len(self.governance_tokens) < self.ctx.settings.governance_quorum:
            self.token("governance")
        for token in self.governance_tokens:
            response = self.client.post(f"/v1/users/{user_id}/approve", headers=auth(token))
            if response.status_code == 401:
                continue  # a member a test has deactivated since
            assert response.status_code == 200, response.text
            if response.json()["status"] == "active":
                return
        raise AssertionError(f"too few governance members to approve user {user_id}")

    def token(self, role: str, **kwargs: Any) -> str:
        return self.user(role, **kwargs)[1]

    # --- agencies -------------------------------------------------------------------
    def enroll(self, code: str, variables: list[dict[str, Any]] | None = None, *,
               person_ids: str = "unique") -> Agency:
        response = self.client.post(
            "/v1/agencies", headers=auth(self.admin_token),
            json={"code": code, "name": f"{code} agency", "url": f"http://{code.lower()}:8101"},
        )
        assert response.status_code == 201, response.text
        key = Ed25519PrivateKey.generate()
        request = EnrollmentRequest(
            agency=code, signing_public_key=public_key_to_b64(key.public_key()),
            enrollment_token=response.json()["enrollment_token"],
            dictionary=tuple(variables if variables is not None else CATALOG.get(code, [])),
            person_ids=person_ids,  # type: ignore[arg-type]
        )
        enrolled = self.client.post("/v1/enrollment", content=request.model_dump_json(),
                                    headers={"Content-Type": "application/json"})
        assert enrolled.status_code == 200, enrolled.text
        agency = Agency(code=code, key=key, token=enrolled.json()["node_token"])
        self.agencies[code] = agency
        return agency

    # --- requests -------------------------------------------------------------------
    def create_request(self, researcher_token: str, **overrides: Any) -> str:
        response = self.client.post("/v1/requests", json=agreement(**overrides),
                                    headers=auth(researcher_token))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def submitted_request(self, researcher_token: str, **overrides: Any) -> str:
        request_id = self.create_request(researcher_token, **overrides)
        response = self.client.post(f"/v1/requests/{request_id}/submit",
                                    headers=auth(researcher_token))
        assert response.status_code == 200, response.text
        return request_id

    def terms(self, request_id: str, agency: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/node/requests/{request_id}/terms",
                                   headers=auth(self.agencies[agency].token))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def decision_envelope(self, request_id: str, agency: str, decision: str = "approve", *,
                          reason: str = "", digest: str | None = None,
                          key: Ed25519PrivateKey | None = None,
                          body_agency: str | None = None) -> bytes:
        body = StewardDecision(
            project_id=request_id, agency=body_agency or agency, decision=decision,
            reason=reason or ("not for us" if decision == "deny" else ""),
            terms_digest=digest or self.terms(request_id, agency)["terms_digest"],
            decided_at=self.clock(),
        )
        envelope = sign(body, typ=StewardDecision.TYP,
                        private_key=key or self.agencies[agency].key,
                        now=int(self.clock().timestamp()))
        return envelope.to_json()

    def decide(self, request_id: str, agency: str, decision: str = "approve",
               **kwargs: Any) -> Any:
        envelope = self.decision_envelope(request_id, agency, decision, **kwargs)
        return self.client.post(f"/v1/node/requests/{request_id}/decision", content=envelope,
                                headers=auth(self.agencies[agency].token))

    def criteria(self, *, met: bool = True) -> list[dict[str, Any]]:
        """An answer to every criterion of the hub's review checklist (all met by default:
        what an approval must carry, docs/governance-policy.md)."""
        return [{"id": c.id, "met": met, "note": "" if met else f"{c.id} not met"}
                for c in self.ctx.settings.review_criteria]

    def review(self, request_id: str, token: str, decision: str = "approve",
               reason: str = "", criteria: list[dict[str, Any]] | None = None) -> Any:
        """A governance review; an approval answers the whole checklist as met unless
        ``criteria`` says otherwise."""
        if criteria is None:
            criteria = self.criteria() if decision == "approve" else []
        return self.client.post(
            f"/v1/requests/{request_id}/reviews", headers=auth(token),
            json={"decision": decision, "reason": reason or f"{decision} because",
                  "criteria": criteria,
                  **({"public_reason": f"public: {decision} because"}
                     if decision == "deny" else {})},
        )

    # --- governance members' own keys (docs/trust-model.md, "A compromised hub") ------
    def roster(self, tokens: list[str], *, quorum: int | None = None
               ) -> tuple[list[Ed25519PrivateKey], Roster]:
        """Each member (``tokens``) registers a key of their own; the roster of them all
        (quorum: all by default), signed by every member, is submitted. Nodes then pin it
        by ``roster_digest(roster)``, its fingerprint."""
        keys = [Ed25519PrivateKey.generate() for _ in tokens]
        for token, key in zip(tokens, keys, strict=True):
            response = self.client.post("/v1/governance/keys", headers=auth(token),
                                        json={"public_key": public_key_to_b64(key.public_key())})
            assert response.status_code == 201, response.text
        roster = new_roster((("member", k.public_key()) for k in keys),
                            quorum=quorum or len(keys))
        body = {"signatures": [sign_statement(roster, k).model_dump(mode="json") for k in keys]}
        response = self.client.post("/v1/governance/roster", json=body, headers=auth(tokens[0]))
        assert response.status_code == 201, response.text
        return keys, roster

    def signed_review(self, request_id: str, token: str, key: Ed25519PrivateKey,
                      decision: str = "approve", public_reason: str | None = None,
                      criteria: list[dict[str, Any]] | None = None) -> Any:
        """A member's decision signed with their own key over the project terms the hub
        serves them (what `fedlink review approve --key-file` does)."""
        served = self.client.get(f"/v1/requests/{request_id}/project-terms",
                                 headers=auth(token))
        assert served.status_code == 200, served.text
        terms = ProjectTerms.model_validate(served.json()["project_terms"])
        body = GovernanceDecision(
            project_id=request_id, decision=decision,  # type: ignore[arg-type]
            reason="" if decision == "approve" else f"{decision} because",
            public_reason=(f"public: {decision} because" if public_reason is None
                           and decision == "deny" else public_reason or ""),
            project_terms=terms, project_digest=project_digest(terms),
            decided_at=dt.datetime.now(dt.UTC),
            criteria=tuple(CriterionAnswer.model_validate(c) for c in (
                criteria if criteria is not None
                else self.criteria() if decision == "approve" else [])))
        return self.client.post(f"/v1/requests/{request_id}/signed-reviews",
                                headers=auth(token),
                                content=sign_statement(body, key).to_json())

    def status(self, request_id: str, token: str) -> str:
        response = self.client.get(f"/v1/requests/{request_id}", headers=auth(token))
        assert response.status_code == 200, response.text
        return str(response.json()["status"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token_file(tmp_path: Path) -> Callable[[str], str]:
    """Write a token to a new 0600 file for ``--token-file`` (no command takes a token as
    a flag value); returns the file's path."""

    def write(token: str) -> str:
        path = tmp_path / f"token-{secrets.token_hex(4)}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(token + "\n")
        return str(path)

    return write


def agreement(**overrides: Any) -> dict[str, Any]:
    """A complete, valid data sharing agreement asking K12 and HE for data."""
    base: dict[str, Any] = {
        "title": "Early grades and college enrolment",
        "institution": "State University",
        "research_questions": ["Do third-grade scores predict college enrolment?"],
        "public_summary": "How early achievement relates to enrolling in college.",
        "scope_and_deliverables": "A report to the agencies and a public brief.",
        "allowable_uses": ["statistical analysis for the research questions"],
        "variables": [
            {"agency": "K12", "variables": ["grade", "test_score"], "first_year": 2018,
             "last_year": 2020},
            {"agency": "HE", "variables": ["enrolled"], "first_year": 2018, "last_year": 2020},
        ],
        "cohort_description": "Students in grade 3 in 2018.",
        "personnel": [{"name": "Dr Ada Researcher", "role": "PI",
                       "institution": "State University", "email": "ada@uni.example"}],
        "agency_contacts": [{"agency": "K12", "name": "Kay Twelve", "email": "kay@k12.example"}],
        "security_plan": "Encrypted workstation in a locked office; no copies.",
        "term_start": "2026-01-01",
        "term_end": "2027-12-31",
        "refresh_frequency": "annual",
        "matching_authorised": True,
        "disposition": "destroy",
        "interim_findings_plan": "Share interim findings with the agencies before release.",
        "irb": {"status": "approved", "board": "State University IRB",
                "protocol_number": "IRB-2025-042", "approval_date": "2025-06-01"},
    }
    base.update(overrides)
    return base


def _make_hub(engine: Engine, url: str, tmp_path: Path, **settings: Any) -> Hub:
    from hub.domain.roles import OPERATOR
    from hub.services import users as user_service

    hub_dir = tmp_path / "hubdir"
    keys: HubKeys = create_hub_keys(hub_dir)
    assembly_dir = tmp_path / "assembly"
    assembly_keys = create_assembly_keys(assembly_dir, hub_dir=hub_dir)
    config = HubSettings.load(hub_dir, database_url=url, **settings)
    clock = FakeClock()
    app = create_app(config, keys=keys, engine=engine, clock=clock)
    ctx: HubContext = app.state.hub
    with ctx.session_factory() as session:
        _, issued = user_service.create_user(session, ctx, OPERATOR, name="root", role="admin")
    assert issued is not None
    client = TestClient(app)
    return Hub(app=app, client=client, ctx=ctx, clock=clock, admin_token=issued.token,
               assembly_dir=assembly_dir, assembly_keys=assembly_keys)


@pytest.fixture
def make_hub(hub_engine: tuple[Engine, str], tmp_path: Path) -> Iterator[Any]:
    """Build a hub with settings overrides: ``make_hub(governance_quorum=3)``."""
    engine, url = hub_engine
    built: list[Hub] = []

    def factory(**settings: Any) -> Hub:
        hub = _make_hub(engine, url, tmp_path, **settings)
        built.append(hub)
        return hub

    yield factory
    for hub in built:
        hub.client.close()


@pytest.fixture(scope="module", params=BACKENDS)
def module_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               _sqlite_template: Path, _pg_schema: str | None) -> Iterator[Hub]:
    """One hub (K12 and HE enrolled) shared by a module's tests, for large matrices whose
    tests each create the objects they need."""
    directory = tmp_path_factory.mktemp("module_hub")
    engine, url = _open_engine(request.param, directory, _sqlite_template, _pg_schema)
    instance = _make_hub(engine, url, directory)
    instance.enroll("K12")
    instance.enroll("HE")
    yield instance
    instance.client.close()
    engine.dispose()


@pytest.fixture
def hub(make_hub: Any) -> Hub:
    """A hub with K12 and HE enrolled (default settings: quorum 2, restricted 3)."""
    instance: Hub = make_hub()
    instance.enroll("K12")
    instance.enroll("HE")
    return instance
