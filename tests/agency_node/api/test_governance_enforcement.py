"""Nodes verify governance themselves (issue 13, attack 2): with a roster pinned, a match
request needs a quorum of signed member decisions over the same project terms, a signed
revocation ends the project, and the roster changes only by a quorum of itself."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from agency_node.api.app import create_app
from agency_node.keys import load_signing_key
from agency_node.runtime import NodeRuntime
from agency_node.services.governance import pin_roster, startup_warning
from agency_node.settings import NodeSettings
from agency_node.store.models import AuditEvent, IssuedPid
from protocol.governance import (
    GovernanceDecision,
    Revocation,
    Roster,
    new_roster,
    roster_digest,
    sign_statement,
)
from protocol.keyfiles import key_id
from protocol.project import ProjectTerms, project_digest
from protocol.signing import SignedEnvelope
from tests.agency_node.conftest import ALICE, BOB, CAROL, GENESIS, MALLORY

MATCH, EXTRACT = "match_request", "extract_request"
NOW = dt.datetime.now(dt.UTC)
# The roster every served node pins (tests/agency_node/conftest.py); pinning it again here
# is a no-op.


def decide(key: Ed25519PrivateKey, body: dict[str, Any], verdict: str = "approve") -> dict:
    terms = ProjectTerms.model_validate(body["project_terms"])
    decision = GovernanceDecision(
        project_id=terms.project_id, decision=verdict,  # type: ignore[arg-type]
        reason="" if verdict == "approve" else "not proportionate", project_terms=terms,
        project_digest=project_digest(terms), decided_at=NOW)
    return sign_statement(decision, key).model_dump(mode="json")


def revoke(key: Ed25519PrivateKey, project_id: str = "P-2026-001") -> bytes:
    body = Revocation(project_id=project_id, reason="consent withdrawn", revoked_at=NOW)
    return sign_statement(body, key).to_json()


def roster_update(roster: Roster, *signers: Ed25519PrivateKey) -> list[dict[str, Any]]:
    return [sign_statement(roster, k).model_dump(mode="json") for k in signers]


@pytest.fixture
def governed(served_node: Path) -> Path:
    with NodeRuntime.open(served_node) as runtime:
        pin_roster(runtime, [sign_statement(GENESIS, k) for k in (ALICE, BOB)],
                   fingerprint=roster_digest(GENESIS), now=NOW)
    return served_node


@pytest.fixture
def gapi(governed: Path) -> Iterator[TestClient]:
    with TestClient(create_app(NodeSettings.load(governed)), raise_server_exceptions=False) as c:
        yield c


def _match(api: TestClient, hub: Any, wire: SimpleNamespace, *signers: Ed25519PrivateKey,
           extra: list[dict] | None = None) -> Any:
    body = wire.match_body()
    body["governance"] = [decide(k, body) for k in signers] + (extra or [])
    return api.post("/v1/match-requests", content=wire.signed(body, MATCH, hub.signing))


def _refused(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    return str(response.json()["detail"])


def test_match_request_with_quorum_of_pinned_roster_answered(
    gapi: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    response = _match(gapi, hub, wire, ALICE, CAROL)
    assert response.status_code == 200, response.text
    assert pa.ipc.open_stream(io.BytesIO(response.content)).read_all().num_rows == 4


def test_match_request_before_quorum_refused(
    gapi: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    _refused(_match(gapi, hub, wire), 403, "no_governance_quorum")
    detail = _refused(_match(gapi, hub, wire, ALICE), 403, "no_governance_quorum")
    assert "1 of the 2" in detail


def test_match_request_forged_governance_signature_refused(
    gapi: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    body = wire.match_body()
    forged = {**decide(MALLORY, body), "kid": key_id(BOB.public_key())}
    detail = _refused(_match(gapi, hub, wire, ALICE, extra=[forged]), 403,
                      "no_governance_quorum")
    assert "did not verify" in detail


def test_match_request_approved_by_non_members_refused(
    gapi: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    _refused(_match(gapi, hub, wire, ALICE, MALLORY), 403, "no_governance_quorum")


def test_match_request_quorum_over_other_terms_refused(
    gapi: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    """The members approved terms listing another digest for this agency than the one its
    steward approved: the request names the steward's terms, so the quorum is short."""
    body = wire.match_body()
    other = {**body["project_terms"], "agencies": [
        {"agency": "DSS", "terms_digest": "11" * 32}, {"agency": "K12", "terms_digest": "44" * 32}]}
    body["governance"] = [decide(k, {"project_terms": other}) for k in (ALICE, BOB)]
    response = gapi.post("/v1/match-requests", content=wire.signed(body, MATCH, hub.signing))
    _refused(response, 403, "no_governance_quorum")


def test_match_request_denied_by_member_refused(
    gapi: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    body = wire.match_body()
    body["governance"] = [decide(ALICE, body), decide(BOB, body),
                          decide(CAROL, body, verdict="deny")]
    response = gapi.post("/v1/match-requests", content=wire.signed(body, MATCH, hub.signing))
    _refused(response, 403, "governance_denied")


def test_match_request_after_revocation_refused(
    gapi: TestClient, governed: Path, hub: Any, wire: SimpleNamespace
) -> None:
    assert _match(gapi, hub, wire, ALICE, BOB).status_code == 200
    with NodeRuntime.open(governed) as runtime, runtime.sessions() as session:
        assert session.query(IssuedPid).count() == 4
    pushed = gapi.post("/v1/governance/revocations", content=revoke(CAROL))
    assert pushed.status_code == 200 and pushed.json() == {"recorded": True}
    _refused(_match(gapi, hub, wire, ALICE, BOB), 403, "revoked")
    with NodeRuntime.open(governed) as runtime, runtime.sessions() as session:
        assert session.query(IssuedPid).count() == 0  # purged on revocation
    again = gapi.post("/v1/governance/revocations", content=revoke(ALICE))
    assert again.json() == {"recorded": False}


def test_extract_after_revocation_refused(
    gapi: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    response = _match(gapi, hub, wire, ALICE, BOB)
    pids = pa.ipc.open_stream(io.BytesIO(response.content)).read_all().column("pid")
    assert gapi.post("/v1/governance/revocations", content=revoke(BOB)).status_code == 200
    body = wire.extract_body([(pids[0].as_py(), "person-0001")], hub.assembly_kid)
    extract = gapi.post("/v1/extracts", content=wire.signed(body, EXTRACT, hub.assembly_signing))
    _refused(extract, 403, "revoked")


def test_steward_revocation_signed_by_node_key_accepted(
    gapi: TestClient, governed: Path, hub: Any, wire: SimpleNamespace
) -> None:
    steward = load_signing_key(governed)
    assert gapi.post("/v1/governance/revocations", content=revoke(steward)).status_code == 200
    _refused(_match(gapi, hub, wire, ALICE, BOB), 403, "revoked")


def _events(node_dir: Path) -> int:
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        return session.query(AuditEvent).count()


def test_revocation_by_outsider_refused(
    gapi: TestClient, governed: Path, hub: Any, wire: SimpleNamespace
) -> None:
    before = _events(governed)
    _refused(gapi.post("/v1/governance/revocations", content=revoke(MALLORY)), 422,
             "unknown_key")
    assert _events(governed) == before  # junk pushed by anyone does not grow the chain
    forged = SignedEnvelope.model_validate_json(revoke(MALLORY)).model_copy(
        update={"kid": key_id(ALICE.public_key())})
    _refused(gapi.post("/v1/governance/revocations", content=forged.to_json()), 422,
             "bad_signature")
    assert _match(gapi, hub, wire, ALICE, BOB).status_code == 200


def test_extract_before_governance_quorum_refused(
    unpinned_node: Path, hub: Any, wire: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pids issued before the roster was pinned, by a node whose operator had opted out of
    governance: once the roster is pinned an extract needs a verified quorum."""
    monkeypatch.setenv("FEDLINK_NODE_GOVERNANCE_REQUIRED", "false")
    with TestClient(create_app(NodeSettings.load(unpinned_node)),
                    raise_server_exceptions=False) as api:
        response = api.post("/v1/match-requests", content=wire.signed(
            wire.match_body(governance=[]), MATCH, hub.signing))
        assert response.status_code == 200, response.text
        pid = pa.ipc.open_stream(io.BytesIO(response.content)).read_all().column("pid")[0]
        with NodeRuntime.open(unpinned_node) as runtime:
            pin_roster(runtime, [sign_statement(GENESIS, k) for k in (ALICE, BOB)],
                       fingerprint=None, now=NOW)
        body = wire.extract_body([(pid.as_py(), "person-0001")], hub.assembly_kid)
        extract = api.post("/v1/extracts",
                           content=wire.signed(body, EXTRACT, hub.assembly_signing))
    _refused(extract, 403, "no_governance_quorum")


def test_extract_after_quorum_answered(gapi: TestClient, hub: Any, wire: SimpleNamespace) -> None:
    response = _match(gapi, hub, wire, ALICE, BOB)
    pid = pa.ipc.open_stream(io.BytesIO(response.content)).read_all().column("pid")[0].as_py()
    body = wire.extract_body([(pid, "person-0001")], hub.assembly_kid)
    extract = gapi.post("/v1/extracts", content=wire.signed(body, EXTRACT, hub.assembly_signing))
    assert extract.status_code == 200, extract.text


def test_extract_after_term_end_by_node_clock_refused(
    governed: Path, hub: Any, wire: SimpleNamespace
) -> None:
    settings = NodeSettings.load(governed)
    with TestClient(create_app(settings)) as now_api:
        response = _match(now_api, hub, wire, ALICE, BOB)
    pid = pa.ipc.open_stream(io.BytesIO(response.content)).read_all().column("pid")[0].as_py()
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=400)).timestamp()
    with TestClient(create_app(settings, clock=lambda: later)) as later_api:
        body = wire.extract_body([(pid, "person-0001")], hub.assembly_kid)
        signed = wire.signed(body, EXTRACT, hub.assembly_signing, now=int(later))
        _refused(later_api.post("/v1/extracts", content=signed), 403, "term_expired")
        signed = wire.signed(wire.match_body(), MATCH, hub.signing, now=int(later))
        _refused(later_api.post("/v1/match-requests", content=signed), 403, "term_expired")


def test_roster_update_signed_by_non_quorum_refused(
    gapi: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    takeover = new_roster([("mallory", MALLORY.public_key())], quorum=1, previous=GENESIS)
    pushed = gapi.post("/v1/governance/roster",
                       json={"versions": [roster_update(takeover, ALICE, MALLORY)]})
    _refused(pushed, 422, "roster_not_quorum")
    body = wire.match_body()
    response = gapi.post("/v1/match-requests", content=wire.signed(
        {**body, "governance": [decide(MALLORY, body)]}, MATCH, hub.signing))
    _refused(response, 403, "no_governance_quorum")


def test_roster_update_by_quorum_removes_a_member(
    gapi: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    v2 = new_roster([("alice", ALICE.public_key()), ("bob", BOB.public_key()),
                     ("dave", MALLORY.public_key())], quorum=2, previous=GENESIS)
    pushed = gapi.post("/v1/governance/roster", json={"versions": [roster_update(v2, ALICE, BOB)]})
    assert pushed.status_code == 200 and pushed.json() == {"version": 2}
    _refused(_match(gapi, hub, wire, ALICE, CAROL), 403, "no_governance_quorum")  # carol out
    assert _match(gapi, hub, wire, BOB, MALLORY).status_code == 200


def test_pinning_another_genesis_refused(governed: Path) -> None:
    other = new_roster([("mallory", MALLORY.public_key())], quorum=1)
    with NodeRuntime.open(governed) as runtime, pytest.raises(Exception) as info:
        pin_roster(runtime, [sign_statement(other, MALLORY)], fingerprint=None, now=NOW)
    assert getattr(info.value, "code", "") == "roster_chain_broken"


def test_match_and_extract_without_roster_refused_by_default(
    unpinned_node: Path, hub: Any, wire: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail closed: with no roster pinned, even a request carrying a quorum's decisions is
    refused, and the refusal says what the operator runs."""
    monkeypatch.delenv("FEDLINK_NODE_GOVERNANCE_REQUIRED", raising=False)
    with TestClient(create_app(NodeSettings.load(unpinned_node))) as api:
        match = api.post("/v1/match-requests",
                         content=wire.signed(wire.match_body(), MATCH, hub.signing))
        body = wire.extract_body([("pid-00000001", "person-0001")], hub.assembly_kid)
        extract = api.post("/v1/extracts",
                           content=wire.signed(body, EXTRACT, hub.assembly_signing))
    for response in (match, extract):
        detail = _refused(response, 403, "no_roster")
        assert "fedlink node roster-sync --roster-fingerprint" in detail
        assert "fedlink node enroll --roster-fingerprint" in detail
    with NodeRuntime.open(unpinned_node) as runtime, runtime.sessions() as session:
        assert session.query(IssuedPid).count() == 0


def test_governance_required_true_without_roster_refused(
    unpinned_node: Path, hub: Any, wire: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDLINK_NODE_GOVERNANCE_REQUIRED", "true")
    with TestClient(create_app(NodeSettings.load(unpinned_node))) as api:
        response = api.post("/v1/match-requests",
                            content=wire.signed(wire.match_body(), MATCH, hub.signing))
    _refused(response, 403, "no_roster")


def test_opted_out_node_without_roster_enforces_its_steward_only(
    unpinned_node: Path, hub: Any, wire: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The explicit, unsafe opt-out: no governance decisions needed, the steward's approval
    still is (another project is refused)."""
    monkeypatch.setenv("FEDLINK_NODE_GOVERNANCE_REQUIRED", "false")
    with TestClient(create_app(NodeSettings.load(unpinned_node))) as api:
        answered = api.post("/v1/match-requests", content=wire.signed(
            wire.match_body(governance=[]), MATCH, hub.signing))
        other = api.post("/v1/match-requests", content=wire.signed(
            wire.match_body("P-2026-999", governance=[]), MATCH, hub.signing))
    assert answered.status_code == 200, answered.text
    assert other.status_code == 403 and other.json()["error"] != "no_roster", other.text


def test_serve_startup_warning_names_the_command(
    unpinned_node: Path, served_node: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEDLINK_NODE_GOVERNANCE_REQUIRED", raising=False)
    with NodeRuntime.open(unpinned_node) as runtime:
        warning = startup_warning(runtime)
    assert warning is not None and "\n" not in warning
    assert "fedlink node roster-sync --roster-fingerprint" in warning
    monkeypatch.setenv("FEDLINK_NODE_GOVERNANCE_REQUIRED", "false")
    with NodeRuntime.open(unpinned_node) as runtime:
        warning = startup_warning(runtime)
    assert warning is not None and "unsafe" in warning and "hub's word" in warning
    with NodeRuntime.open(served_node) as runtime:
        assert startup_warning(runtime) is None
