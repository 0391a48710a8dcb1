"""Pinning the governance roster from the hub's chain and pulling updates and revocations
(:func:`sync_from_hub`, :class:`GovernancePoller`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agency_node.runtime import NodeRuntime
from agency_node.services.governance import (
    GovernancePoller,
    GovernanceRefusedError,
    current_roster,
    sync_from_hub,
)
from agency_node.store.governance import get_revocation
from protocol.governance import (
    Revocation,
    new_roster,
    roster_digest,
    show_fingerprint,
    sign_statement,
)

NOW = dt.datetime.now(dt.UTC)
ALICE, BOB, CAROL = (Ed25519PrivateKey.generate() for _ in range(3))
V1 = new_roster([("a", ALICE.public_key()), ("b", BOB.public_key())], quorum=2)
V2 = new_roster([("a", ALICE.public_key()), ("b", BOB.public_key()),
                 ("c", CAROL.public_key())], quorum=2, previous=V1)


def chain(*versions: Any) -> list[list[dict[str, Any]]]:
    return [[sign_statement(v, k).model_dump(mode="json") for k in (ALICE, BOB)]
            for v in versions]


def revocation(key: Ed25519PrivateKey) -> dict[str, Any]:
    body = Revocation(project_id="P-2026-001", reason="withdrawn", revoked_at=NOW)
    return sign_statement(body, key).model_dump(mode="json")


def test_sync_pins_checked_fingerprint_and_follows_updates(unpinned_node: Path) -> None:
    with NodeRuntime.open(unpinned_node) as runtime:
        roster = sync_from_hub(runtime, {"roster_updates": chain(V1, V2), "revocations": []},
                               fingerprint=show_fingerprint(roster_digest(V1)), now=NOW)
        assert roster == V2 == current_roster(runtime)


def test_sync_with_other_fingerprint_pins_nothing(unpinned_node: Path) -> None:
    with NodeRuntime.open(unpinned_node) as runtime:
        with pytest.raises(GovernanceRefusedError) as info:
            sync_from_hub(runtime, {"roster_updates": chain(V1)}, fingerprint="ab" * 32, now=NOW)
        assert info.value.code == "roster_chain_broken"
        assert current_roster(runtime) is None


def test_sync_without_roster_at_the_hub(unpinned_node: Path) -> None:
    with NodeRuntime.open(unpinned_node) as runtime:
        assert sync_from_hub(runtime, {"roster_updates": []}, fingerprint=None, now=NOW) is None
        with pytest.raises(GovernanceRefusedError):
            sync_from_hub(runtime, {"roster_updates": []}, fingerprint="ab" * 32, now=NOW)


def test_poller_pulls_revocations_by_a_member_added_in_the_same_pull(unpinned_node: Path) -> None:
    with NodeRuntime.open(unpinned_node) as runtime:
        sync_from_hub(runtime, {"roster_updates": chain(V1)}, fingerprint=None, now=NOW)
        answer = {"roster_updates": chain(V1, V2), "revocations": [revocation(CAROL)]}
        poller = GovernancePoller(runtime, interval=60, fetch=lambda: answer, clock=lambda: NOW)
        assert poller.poll_once() == 1
        assert poller.poll_once() == 0  # already known
        with runtime.sessions() as session:
            assert get_revocation(session, project_id="P-2026-001") is not None


def test_poller_ignores_forged_revocations(unpinned_node: Path) -> None:
    with NodeRuntime.open(unpinned_node) as runtime:
        sync_from_hub(runtime, {"roster_updates": chain(V1)}, fingerprint=None, now=NOW)
        outsider = revocation(Ed25519PrivateKey.generate())
        poller = GovernancePoller(runtime, interval=60, fetch=lambda: {"revocations": [outsider]},
                                  clock=lambda: NOW)
        assert poller.poll_once() == 0
        with runtime.sessions() as session:
            assert get_revocation(session, project_id="P-2026-001") is None
