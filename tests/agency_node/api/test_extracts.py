"""POST /v1/extracts: sealed approved variables for pids this node issued, and refusals."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fastapi.testclient import TestClient

from agency_node.keys import load_signing_key
from protocol.errors import BadSignatureError, DecryptionError
from protocol.keyfiles import key_id
from protocol.payload import SealedPayload, open_payload
from protocol.signing import MemoryReplayGuard, SignedEnvelope, verify
from protocol.wire import EXTRACT_PURPOSE, ExtractResponse, body_as, extract_payload_context

TYP = "extract_request"


@pytest.fixture
def issued(api: TestClient, hub: object, wire: SimpleNamespace) -> list[str]:
    """The pids the node sent in a match response for the project."""
    envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
    response = api.post("/v1/match-requests", content=envelope)
    assert response.status_code == 200
    table = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()
    return table.column("pid").to_pylist()


def _extract(api: TestClient, hub: object, wire: SimpleNamespace, assignments, **overrides):
    kid = overrides.pop("recipient_kid", hub.assembly_kid)
    body = wire.extract_body(assignments, kid, **overrides)
    return api.post("/v1/extracts", content=wire.signed(body, TYP, hub.assembly_signing))


def _verified(answer: object, node_dir: Path) -> ExtractResponse:
    """The response body, once its envelope verifies with the node's own public key."""
    node_key = load_signing_key(node_dir).public_key()
    envelope = verify(answer, keyring={key_id(node_key): node_key},
                      expected_typ=ExtractResponse.TYP, replay_guard=MemoryReplayGuard())
    return body_as(envelope, ExtractResponse)


def test_extract_returns_sealed_approved_variables(
    api: TestClient, hub: object, wire: SimpleNamespace, issued: list[str], served_node: Path
) -> None:
    assignments = [(pid, f"person-{n:04d}") for n, pid in enumerate(issued)]
    response = _extract(api, hub, wire, assignments)
    assert response.status_code == 200, response.text
    answer = _verified(response.json(), served_node)
    assert answer.header.rows == 4
    assert answer.header.variables == ("grade_level", "gpa")
    plaintext = open_payload(answer.payload, hub.assembly, purpose=EXTRACT_PURPOSE,
                             **extract_payload_context(wire.PROJECT, "K12", "run-1"))
    table = pa.ipc.open_stream(io.BytesIO(plaintext)).read_all()
    assert table.column_names == ["person_id", "grade_level", "gpa"]
    assert sorted(table.column("grade_level").to_pylist()) == [8, 9, 10, 12]
    assert set(table.column("person_id").to_pylist()) == {a[1] for a in assignments}
    for needle in (b"K12-000", b"Maria", b"MARIA", b"Garcia", b"223-45-6780"):
        assert needle not in plaintext
    for pid in issued:
        assert pid.encode() not in plaintext


def test_extract_response_is_signed_by_the_node_and_quotes_the_request_nonce(
    api: TestClient, hub: object, wire: SimpleNamespace, issued: list[str], served_node: Path
) -> None:
    body = wire.extract_body([(issued[0], "person-0001")], hub.assembly_kid)
    request = wire.signed(body, TYP, hub.assembly_signing)
    response = api.post("/v1/extracts", content=request)
    assert response.status_code == 200, response.text
    answer = _verified(response.json(), served_node)
    assert answer.request_nonce == SignedEnvelope.model_validate_json(request).nonce
    # The signature covers the header: a changed row count no longer verifies.
    tampered = response.json()
    tampered["body"]["header"]["rows"] += 1
    with pytest.raises(BadSignatureError):
        _verified(tampered, served_node)


def test_extract_payload_cannot_be_opened_by_another_key(
    api: TestClient, hub: object, wire: SimpleNamespace, issued: list[str]
) -> None:
    response = _extract(api, hub, wire, [(issued[0], "person-0001")])
    payload = SealedPayload.model_validate(response.json()["body"]["payload"])
    with pytest.raises(DecryptionError):
        open_payload(payload, X25519PrivateKey.generate(), purpose=EXTRACT_PURPOSE,
                     **extract_payload_context(wire.PROJECT, "K12", "run-1"))


def test_extract_for_pid_never_issued_refused(
    api: TestClient, hub: object, wire: SimpleNamespace, issued: list[str]
) -> None:
    response = _extract(api, hub, wire, [(issued[0], "person-1"), ("f" * 32, "person-2")])
    assert response.status_code == 403
    assert response.json()["error"] == "unknown_pid"


def test_extract_before_any_match_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    # The governance quorum is verified (and stored) when the node answers the match
    # request, so before any match there is none to extract under: refused before the
    # pids are even looked at (a never-issued pid is test_extract_for_pid_never_issued…).
    response = _extract(api, hub, wire, [("a" * 32, "person-1")])
    assert (response.status_code, response.json()["error"]) == (403, "no_governance_quorum")


def test_extract_out_of_scope_variable_refused_by_name(
    api: TestClient, hub: object, wire: SimpleNamespace, issued: list[str]
) -> None:
    response = _extract(api, hub, wire, [(issued[0], "person-1")], variables=["gpa", "ell"])
    assert (response.status_code, response.json()["error"]) == (403, "out_of_scope")
    assert "'ell'" in response.json()["detail"]


def test_extract_out_of_scope_year_refused(
    api: TestClient, hub: object, wire: SimpleNamespace, issued: list[str]
) -> None:
    response = _extract(api, hub, wire, [(issued[0], "person-1")], last_year=2022)
    assert (response.status_code, response.json()["error"]) == (403, "out_of_scope")
    assert "2022" in response.json()["detail"]


def test_extract_to_unenrolled_recipient_refused(
    api: TestClient, hub: object, wire: SimpleNamespace, issued: list[str]
) -> None:
    other = key_id(X25519PrivateKey.generate().public_key())
    response = _extract(api, hub, wire, [(issued[0], "person-1")], recipient_kid=other)
    assert (response.status_code, response.json()["error"]) == (403, "unknown_recipient")


def test_extract_signed_by_unknown_key_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    body = wire.extract_body([("a" * 32, "person-1")], hub.assembly_kid)
    envelope = wire.signed(body, TYP, Ed25519PrivateKey.generate())
    response = api.post("/v1/extracts", content=envelope)
    assert (response.status_code, response.json()["error"]) == (401, "unknown_key")


def test_extract_oversized_refused(api: TestClient) -> None:
    response = api.post("/v1/extracts", content=b"x",
                        headers={"Content-Length": str(65 * 1024 * 1024)})
    assert (response.status_code, response.json()["error"]) == (413, "payload_too_large")
