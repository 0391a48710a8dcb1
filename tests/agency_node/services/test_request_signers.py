"""Separation of duties at the node's front door: each request type has exactly one signer.

Match requests (which return token tables) are accepted only from the hub signing key (the
linkage role); extract requests (whose payloads carry attributes) only from the assembly
role's signing key pinned at enrollment. Either key on the other's request is an authentic
but **403 ``wrong_signer``**, audited with the signer's kid — so no one process holding one
key can get both encodings and payloads."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select

from agency_node import keys
from agency_node.api.app import create_app
from agency_node.config import read_config
from agency_node.errors import HubClientError
from agency_node.hub_client import HubClient
from agency_node.runtime import NodeRuntime
from agency_node.services.enrollment import enroll
from agency_node.settings import NodeSettings
from agency_node.store.models import AuditEvent
from protocol.keyfiles import key_id


def _refusals(node_dir: Path, reason: str) -> list[tuple[str, str, str]]:
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.reason == reason)).all()
        return [(e.actor, e.typ, e.outcome) for e in events]


def _pids(api: TestClient, hub: object, wire: SimpleNamespace) -> list[str]:
    envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
    response = api.post("/v1/match-requests", content=envelope)
    assert response.status_code == 200, response.text
    return pa.ipc.open_stream(io.BytesIO(response.content)).read_all()["pid"].to_pylist()


def _extract_body(wire: SimpleNamespace, hub: object, pids: list[str]) -> dict[str, object]:
    return wire.extract_body([(pid, f"person-{n}") for n, pid in enumerate(pids)],
                             hub.assembly_kid)


def test_node_refuses_an_extract_request_signed_by_the_hub_key(
    api: TestClient, hub: object, wire: SimpleNamespace, served_node: Path
) -> None:
    body = _extract_body(wire, hub, _pids(api, hub, wire))
    response = api.post("/v1/extracts",
                        content=wire.signed(body, "extract_request", hub.signing))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")
    refusal = response.json()
    assert refusal["error"] == "wrong_signer"
    assert hub.assembly_signing_kid in refusal["detail"]
    hub_kid = key_id(hub.signing.public_key())
    assert _refusals(served_node, "wrong_signer") == [(hub_kid, "extract_request", "refused")]
    # The same body signed by the assembly key is answered: only the signer was wrong, and
    # the refused request burned no nonce.
    answered = api.post("/v1/extracts",
                        content=wire.signed(body, "extract_request", hub.assembly_signing))
    assert answered.status_code == 200, answered.text


def test_node_refuses_a_match_request_signed_by_the_assembly_key(
    api: TestClient, hub: object, wire: SimpleNamespace, served_node: Path
) -> None:
    response = api.post("/v1/match-requests", content=wire.signed(
        wire.match_body(), "match_request", hub.assembly_signing))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")
    refusal = response.json()
    assert refusal["error"] == "wrong_signer"
    assert key_id(hub.signing.public_key()) in refusal["detail"]
    assert _refusals(served_node, "wrong_signer") == [
        (hub.assembly_signing_kid, "match_request", "refused")]
    with NodeRuntime.open(served_node) as runtime:
        assert runtime.audit.verify().events >= 1


def test_node_without_a_pinned_assembly_signing_key_refuses_every_extract(
    served_node: Path, hub: object, wire: SimpleNamespace
) -> None:
    (served_node / keys.HUB_ASSEMBLY_SIGNING_PUB).unlink()
    with TestClient(create_app(NodeSettings.load(served_node))) as api:
        body = _extract_body(wire, hub, _pids(api, hub, wire))
        answers = [api.post("/v1/extracts", content=wire.signed(body, "extract_request", key))
                   for key in (hub.signing, hub.assembly_signing)]
    # The hub key is trusted (for match requests): the node says what it lacks. The
    # assembly key it never pinned is nobody it knows.
    assert [(a.status_code, a.json()["error"]) for a in answers] == [
        (403, "no_assembly_key"), (401, "unknown_key")]


def test_enrollment_pins_the_assembly_signing_key(node_dir: Path, fake_hub: object) -> None:
    with NodeRuntime.open(node_dir) as runtime, HubClient(
            "http://hub.test", transport=fake_hub.transport()) as client:
        enroll(runtime, client, hub_url="http://hub.test", token=fake_hub.enrollment_token,
               expected_assembly_signing_kid=fake_hub.hub.assembly_signing_kid)
    pinned = keys.load_assembly_signing_key(node_dir)
    assert pinned is not None and key_id(pinned) == fake_hub.hub.assembly_signing_kid
    assert read_config(node_dir).hub.assembly_signing_kid == fake_hub.hub.assembly_signing_kid
    assert (node_dir / keys.HUB_ASSEMBLY_SIGNING_PUB).stat().st_mode & 0o777 == 0o600


def test_enrollment_refuses_an_assembly_signing_key_other_than_the_one_given_out_of_band(
    node_dir: Path, fake_hub: object
) -> None:
    expected = key_id(Ed25519PrivateKey.generate().public_key())
    with NodeRuntime.open(node_dir) as runtime, HubClient(
            "http://hub.test", transport=fake_hub.transport()) as client, \
            pytest.raises(HubClientError) as refused:
        enroll(runtime, client, hub_url="http://hub.test", token=fake_hub.enrollment_token,
               expected_assembly_signing_kid=expected)
    assert refused.value.code == "assembly_key_mismatch"
    assert not (node_dir / keys.HUB_ASSEMBLY_SIGNING_PUB).exists()
    assert not (node_dir / keys.HUB_TOKEN).exists()
