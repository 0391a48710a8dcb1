"""The node sends its ``[mapping] person_ids`` declaration to the hub: in the enrollment
request and in every signed dictionary update (the real hub's side is
tests/hub/api/test_hub_person_ids.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit

from agency_node import keys
from agency_node.hub_client import HubClient
from agency_node.runtime import NodeRuntime
from agency_node.services.dictionary import publish
from agency_node.services.enrollment import enroll
from protocol.keyfiles import key_id
from protocol.signing import MemoryReplayGuard, verify
from protocol.wire import DictionaryUpdate, body_as


def set_person_ids(node_dir: Path, value: str) -> None:
    path = node_dir / "node.toml"
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    doc["mapping"]["person_ids"] = value  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def _enroll(node_dir: Path, fake_hub: Any) -> None:
    with NodeRuntime.open(node_dir) as runtime, HubClient(
            "http://hub.test", transport=fake_hub.transport()) as client:
        enroll(runtime, client, hub_url="http://hub.test", token=fake_hub.enrollment_token)


class _Hub:
    """Records the signed dictionary updates the node sends."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def publish_dictionary(self, envelope_json: bytes | str) -> dict[str, Any]:
        self.sent.append(envelope_json if isinstance(envelope_json, bytes)
                         else envelope_json.encode())
        return {"variables": 0}


def _published(node_dir: Path, hub: _Hub) -> tuple[DictionaryUpdate, list[str]]:
    with NodeRuntime.open(node_dir) as runtime:
        result = publish(runtime, hub)  # type: ignore[arg-type]
    public = keys.load_signing_key(node_dir).public_key()
    envelope = verify(hub.sent[-1], keyring={key_id(public): public},
                      expected_typ=DictionaryUpdate.TYP, replay_guard=MemoryReplayGuard())
    return body_as(envelope, DictionaryUpdate), result.changes


def test_enrollment_request_carries_unique_by_default(node_dir: Path, fake_hub: Any) -> None:
    _enroll(node_dir, fake_hub)
    (sent,) = fake_hub.enrollments
    assert sent.person_ids == "unique"


def test_enrollment_request_carries_may_duplicate_when_declared(
        node_dir: Path, fake_hub: Any) -> None:
    set_person_ids(node_dir, "may_duplicate")
    _enroll(node_dir, fake_hub)
    (sent,) = fake_hub.enrollments
    assert sent.person_ids == "may_duplicate"
    assert '"person_ids":"may_duplicate"' in sent.model_dump_json()


def test_dictionary_update_carries_the_declaration_and_reports_its_change(
        node_dir: Path) -> None:
    hub = _Hub()
    first, _ = _published(node_dir, hub)
    assert first.person_ids == "unique"
    set_person_ids(node_dir, "may_duplicate")
    second, changes = _published(node_dir, hub)
    assert second.person_ids == "may_duplicate"
    assert "person ids: unique → may_duplicate" in changes
    # Publishing again with no change to the declaration reports none.
    _third, unchanged = _published(node_dir, hub)
    assert not any(line.startswith("person ids") for line in unchanged)
