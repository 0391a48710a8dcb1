"""Separation of duties at the node: extract payloads are sealed only to the assembly key
pinned at enrollment — never to the hub's linkage-role HPKE key, never to a key a
(compromised) linkage process names in a signed request."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
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
from protocol.errors import DecryptionError
from protocol.keyfiles import key_id
from protocol.payload import open_payload
from protocol.wire import EXTRACT_PURPOSE, ExtractResponse, extract_payload_context

TYP = "extract_request"


def _pids(api: TestClient, hub: object, wire: SimpleNamespace) -> list[str]:
    envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
    response = api.post("/v1/match-requests", content=envelope)
    assert response.status_code == 200
    return pa.ipc.open_stream(io.BytesIO(response.content)).read_all()["pid"].to_pylist()


def _extract(api: TestClient, hub: object, wire: SimpleNamespace, pids: list[str],
             recipient_kid: str) -> object:
    body = wire.extract_body([(pid, f"person-{n}") for n, pid in enumerate(pids)],
                             recipient_kid)
    return api.post("/v1/extracts", content=wire.signed(body, TYP, hub.assembly_signing))


def test_node_refuses_to_seal_to_the_hub_linkage_key(
    api: TestClient, hub: object, wire: SimpleNamespace, served_node: Path
) -> None:
    response = _extract(api, hub, wire, _pids(api, hub, wire), hub.hpke_kid)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "linkage_key_recipient"
    with NodeRuntime.open(served_node) as runtime, runtime.sessions() as session:
        reasons = session.scalars(select(AuditEvent.reason)).all()
    assert "linkage_key_recipient" in reasons


def test_node_refuses_a_substituted_recipient_key(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    substitute = key_id(X25519PrivateKey.generate().public_key())
    response = _extract(api, hub, wire, _pids(api, hub, wire), substitute)
    assert (response.status_code, response.json()["error"]) == (403, "unknown_recipient")
    assert hub.assembly_kid in response.json()["detail"]


def test_linkage_key_cannot_open_what_the_node_seals(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    response = _extract(api, hub, wire, _pids(api, hub, wire), hub.assembly_kid)
    assert response.status_code == 200, response.text
    answer = ExtractResponse.model_validate(response.json()["body"])
    context = extract_payload_context(wire.PROJECT, "K12", "run-1")
    with pytest.raises(DecryptionError):
        open_payload(answer.payload, hub.hpke, purpose=EXTRACT_PURPOSE, **context)
    table = pa.ipc.open_stream(io.BytesIO(open_payload(
        answer.payload, hub.assembly, purpose=EXTRACT_PURPOSE, **context))).read_all()
    assert table.num_rows == 4


def test_node_without_a_pinned_assembly_key_refuses_every_extract(
    served_node: Path, hub: object, wire: SimpleNamespace
) -> None:
    (served_node / keys.HUB_ASSEMBLY_PUB).unlink()
    with TestClient(create_app(NodeSettings.load(served_node))) as api:
        response = _extract(api, hub, wire, _pids(api, hub, wire), hub.assembly_kid)
    assert (response.status_code, response.json()["error"]) == (403, "no_assembly_key")


def test_enrollment_pins_the_assembly_key(node_dir: Path, fake_hub: object) -> None:
    with NodeRuntime.open(node_dir) as runtime, HubClient(
            "http://hub.test", transport=fake_hub.transport()) as client:
        enroll(runtime, client, hub_url="http://hub.test", token=fake_hub.enrollment_token,
               expected_assembly_kid=fake_hub.hub.assembly_kid)
    assert key_id(keys.load_assembly_key(node_dir)) == fake_hub.hub.assembly_kid
    assert read_config(node_dir).hub.assembly_kid == fake_hub.hub.assembly_kid


def test_enrollment_refuses_an_assembly_key_other_than_the_one_given_out_of_band(
    node_dir: Path, fake_hub: object
) -> None:
    expected = key_id(X25519PrivateKey.generate().public_key())
    with NodeRuntime.open(node_dir) as runtime, HubClient(
            "http://hub.test", transport=fake_hub.transport()) as client, \
            pytest.raises(HubClientError) as refused:
        enroll(runtime, client, hub_url="http://hub.test", token=fake_hub.enrollment_token,
               expected_assembly_kid=expected)
    assert refused.value.code == "assembly_key_mismatch"
    assert not (node_dir / keys.HUB_ASSEMBLY_PUB).exists()
    assert not (node_dir / keys.HUB_TOKEN).exists()
