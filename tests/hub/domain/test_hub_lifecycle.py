"""Every pair of request states: legal exactly when the lifecycle says so."""

from __future__ import annotations

import itertools

import pytest

from hub.domain.lifecycle import RequestStatus, can_transition, transition
from hub.errors import IllegalTransitionError

# Written out independently of hub.domain.lifecycle.TRANSITIONS, so a change to the table
# that is not also a change here fails.
LEGAL = {
    ("draft", "submitted"), ("draft", "withdrawn"),
    ("submitted", "in_review"), ("submitted", "withdrawn"),
    ("in_review", "approved"), ("in_review", "denied"), ("in_review", "changes_requested"),
    ("in_review", "withdrawn"),
    ("changes_requested", "submitted"), ("changes_requested", "withdrawn"),
    ("approved", "linking"), ("approved", "revoked"), ("approved", "expired"),
    ("linking", "ready"), ("linking", "approved"), ("linking", "revoked"),
    ("linking", "expired"),
    ("ready", "linking"), ("ready", "revoked"), ("ready", "expired"),
    # Amendments, extensions, renewals (docs/amendments.md): back where they started.
    ("approved", "amending"), ("ready", "amending"),
    ("amending", "approved"), ("amending", "ready"), ("amending", "revoked"),
    ("amending", "expired"),
}
PAIRS = list(itertools.product([s.value for s in RequestStatus], repeat=2))


@pytest.mark.parametrize(("from_state", "to_state"), [p for p in PAIRS if p in LEGAL])
def test_legal_transition_allowed(from_state: str, to_state: str) -> None:
    assert can_transition(from_state, to_state)
    assert transition(from_state, to_state) == to_state


@pytest.mark.parametrize(("from_state", "to_state"), [p for p in PAIRS if p not in LEGAL])
def test_illegal_transition_refused_naming_both_states(from_state: str, to_state: str) -> None:
    assert not can_transition(from_state, to_state)
    with pytest.raises(IllegalTransitionError) as caught:
        transition(from_state, to_state)
    assert caught.value.status == 409
    assert f"'{from_state}'" in str(caught.value) and f"'{to_state}'" in str(caught.value)


def test_withdrawal_is_impossible_after_approval() -> None:
    for state in ("approved", "linking", "ready", "denied", "revoked", "expired"):
        assert not can_transition(state, "withdrawn")
