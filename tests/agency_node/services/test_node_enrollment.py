"""Enrollment against a fake hub: keys and token stored 0600, dictionary sent, reuse refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from agency_node import keys
from agency_node.config import read_config
from agency_node.errors import HubClientError
from agency_node.hub_client import HubClient
from agency_node.runtime import NodeRuntime
from agency_node.services.enrollment import enroll
from protocol.keyfiles import key_id


def _enroll(node_dir: Path, fake_hub: object, token: str | None = None):
    with NodeRuntime.open(node_dir) as runtime, HubClient(
        "http://hub.test", transport=fake_hub.transport()
    ) as client:
        return enroll(runtime, client, hub_url="http://hub.test",
                      token=token or fake_hub.enrollment_token)


def test_enroll_stores_hub_keys_and_token_owner_only(node_dir: Path, fake_hub: object) -> None:
    response = _enroll(node_dir, fake_hub)
    assert response.hub_signing_kid == key_id(fake_hub.hub.signing.public_key())
    for name in (keys.HUB_SIGNING_PUB, keys.HUB_HPKE_PUB, keys.HUB_TOKEN):
        assert stat.S_IMODE((node_dir / name).stat().st_mode) == 0o600
    assert keys.load_hub_token(node_dir) == fake_hub.node_token
    assert key_id(keys.load_hub_signing_key(node_dir)) == response.hub_signing_kid
    config = read_config(node_dir)
    assert (config.hub.url, config.hub.signing_kid, config.hub.hpke_kid) == (
        "http://hub.test", response.hub_signing_kid, response.hub_hpke_kid)
    assert "# filled in by `fedlink node enroll`" in (node_dir / "node.toml").read_text()


def test_enroll_sends_node_key_and_dictionary_without_values(
    node_dir: Path, fake_hub: object
) -> None:
    _enroll(node_dir, fake_hub)
    (sent,) = fake_hub.enrollments
    node_key = keys.load_signing_key(node_dir).public_key()
    assert sent.signing_kid == key_id(node_key)
    assert {v.name for v in sent.dictionary} == {"school_year", "grade_level", "gpa", "ell"}
    assert "Maria" not in sent.model_dump_json()


def test_enroll_twice_with_used_token_refused(node_dir: Path, fake_hub: object) -> None:
    _enroll(node_dir, fake_hub)
    with pytest.raises(HubClientError, match="token_used"):
        _enroll(node_dir, fake_hub)


def test_enroll_with_wrong_token_refused_and_nothing_stored(
    node_dir: Path, fake_hub: object
) -> None:
    with pytest.raises(HubClientError, match="bad_token"):
        _enroll(node_dir, fake_hub, token="x" * 24)
    assert not (node_dir / keys.HUB_TOKEN).exists()


def test_enroll_unreachable_hub_is_one_sentence(node_dir: Path) -> None:
    with (
        NodeRuntime.open(node_dir) as runtime,
        HubClient("http://127.0.0.1:9") as client,
        pytest.raises(HubClientError, match="cannot be reached"),
    ):
        enroll(runtime, client, hub_url="http://127.0.0.1:9", token="t" * 20)
