"""Re-enrolment with key rotation: the new signing key replaces the old one only once the
hub accepted it; a refused re-enrolment keeps the old key."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from agency_node import keys
from agency_node.errors import HubClientError
from agency_node.hub_client import HubClient
from agency_node.runtime import NodeRuntime
from agency_node.services.enrollment import enroll
from agency_node.store.models import AuditEvent
from protocol.keyfiles import key_id


def _enroll(node_dir: Path, fake_hub: object, *, rotate_key: bool = False,
            token: str | None = None):
    with NodeRuntime.open(node_dir) as runtime, HubClient(
        "http://hub.test", transport=fake_hub.transport()
    ) as client:
        return enroll(runtime, client, hub_url="http://hub.test",
                      token=token or fake_hub.enrollment_token, rotate_key=rotate_key)


def _kid(node_dir: Path) -> str:
    return key_id(keys.load_signing_key(node_dir).public_key())


def test_reenrol_with_rotation_replaces_key_after_hub_accepts(
        node_dir: Path, fake_hub: object) -> None:
    _enroll(node_dir, fake_hub)
    old = _kid(node_dir)
    fake_hub.burned = False  # the operator issued a re-enrolment token
    _enroll(node_dir, fake_hub, rotate_key=True)
    new = _kid(node_dir)
    assert new != old
    assert fake_hub.enrollments[-1].signing_kid == new
    assert (node_dir / keys.SIGNING_KEY).stat().st_mode & 0o077 == 0
    assert not (node_dir / f"{keys.SIGNING_KEY}.next").exists()
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.typ == "key_rotation"))
    assert event.details == {"old_signing_kid": old, "signing_kid": new}


def test_refused_reenrolment_keeps_the_old_key(node_dir: Path, fake_hub: object) -> None:
    _enroll(node_dir, fake_hub)
    old = _kid(node_dir)
    with pytest.raises(HubClientError, match="token"):
        _enroll(node_dir, fake_hub, rotate_key=True)  # token already used
    assert _kid(node_dir) == old
    assert not (node_dir / f"{keys.SIGNING_KEY}.next").exists()
