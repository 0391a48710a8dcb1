"""Stewards sign with their own keys: every decision needs a steward key agency IT
registered on the node, records its key id instead of the OS user, and keeps the
steward's signature; a registered steward may also sign a revocation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agency_node.errors import ApprovalError
from agency_node.hub_client import HubClient
from agency_node.runtime import NodeRuntime
from agency_node.services.approvals import steward_decide
from agency_node.services.enrollment import enroll
from agency_node.services.governance import accept_revocation
from agency_node.services.stewards import add_steward
from agency_node.store.approvals import get_approval
from agency_node.store.governance import get_revocation, get_steward_signature
from protocol.governance import Revocation, sign_statement, verify_statement
from protocol.keyfiles import key_id, public_key_to_b64
from protocol.signing import SignedEnvelope
from protocol.wire import StewardDecision

NOW = dt.datetime.now(dt.UTC)
STEWARD = Ed25519PrivateKey.generate()


@pytest.fixture
def enrolled(node_dir: Path, fake_hub: object) -> Path:
    with NodeRuntime.open(node_dir) as runtime, HubClient(
        "http://hub.test", transport=fake_hub.transport()
    ) as client:
        enroll(runtime, client, hub_url="http://hub.test", token=fake_hub.enrollment_token)
    return node_dir


@pytest.fixture
def stewarded(enrolled: Path) -> Path:
    with NodeRuntime.open(enrolled) as runtime:
        add_steward(runtime, label="Kay, K12 data steward",
                    public_key=public_key_to_b64(STEWARD.public_key()), now=NOW)
    return enrolled


def _decide(node_dir: Path, fake_hub: object, key: Ed25519PrivateKey | None,
            decision: str = "approve") -> dict:
    with NodeRuntime.open(node_dir) as runtime, HubClient(
        "http://hub.test", token=fake_hub.node_token, transport=fake_hub.transport()
    ) as client:
        return steward_decide(runtime, client, project_id="P-2026-001", decision=decision,
                              reason="" if decision == "approve" else "no",
                              confirm=lambda _t: True, steward_key=key)


def test_registered_steward_key_signs_and_is_recorded(
    stewarded: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    fake_hub.terms[wire.PROJECT] = wire.make_terms()
    _decide(stewarded, fake_hub, STEWARD)
    with NodeRuntime.open(stewarded) as runtime, runtime.sessions() as session:
        approval = get_approval(session, project_id=wire.PROJECT)
        signature = get_steward_signature(session, project_id=wire.PROJECT)
        assert approval is not None and signature is not None
        assert approval.decided_by == key_id(STEWARD.public_key())
        envelope = SignedEnvelope.model_validate(signature.envelope)
    kid = key_id(STEWARD.public_key())
    verify_statement(envelope, keyring={kid: STEWARD.public_key()}, typ=StewardDecision.TYP)
    assert envelope.body["terms_digest"] == approval.terms_digest


def test_decision_without_steward_key_refused_once_keys_are_registered(
    stewarded: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    fake_hub.terms[wire.PROJECT] = wire.make_terms()
    with pytest.raises(ApprovalError, match="--steward-key"):
        _decide(stewarded, fake_hub, None)
    with pytest.raises(ApprovalError, match="not registered"):
        _decide(stewarded, fake_hub, Ed25519PrivateKey.generate())
    assert fake_hub.decisions == []


def test_steward_key_on_a_node_without_registered_stewards_refused(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    fake_hub.terms[wire.PROJECT] = wire.make_terms()
    with pytest.raises(ApprovalError, match="no steward key is registered"):
        _decide(enrolled, fake_hub, STEWARD)


def test_registered_steward_can_revoke_on_its_node(stewarded: Path) -> None:
    body = Revocation(project_id="P-2026-001", reason="consent withdrawn", revoked_at=NOW,
                      agency="K12")
    with NodeRuntime.open(stewarded) as runtime:
        assert accept_revocation(runtime, sign_statement(body, STEWARD), now=NOW)
        with runtime.sessions() as session:
            assert get_revocation(session, project_id="P-2026-001") is not None


def test_bad_steward_public_key_refused(enrolled: Path) -> None:
    with NodeRuntime.open(enrolled) as runtime, pytest.raises(ApprovalError):
        add_steward(runtime, label="x", public_key="not-a-key", now=NOW)


def test_decision_on_a_node_without_any_steward_key_refused_not_attributed_to_the_os_user(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    # Issue 13 (6): the node's "steward" used to be whoever ran the command (getpass).
    fake_hub.terms[wire.PROJECT] = wire.make_terms()
    with pytest.raises(ApprovalError, match="fedlink node steward keygen"):
        _decide(enrolled, fake_hub, None)
    assert fake_hub.decisions == []
    with NodeRuntime.open(enrolled) as runtime, runtime.sessions() as session:
        assert get_approval(session, project_id=wire.PROJECT) is None
