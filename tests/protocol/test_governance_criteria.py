"""A governance decision carries the member's review checklist answers inside what they sign;
statements made before the field existed still verify and count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from protocol.errors import BadSignatureError
from protocol.governance import (
    CriterionAnswer,
    GovernanceDecision,
    new_roster,
    require_quorum,
    sign_statement,
    verify_statement,
)
from protocol.project import project_digest, project_terms
from protocol.signing import SignedEnvelope, sign

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
ALICE, BOB = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
TERMS = project_terms("P-2026-001", "2026-01-01", "2027-12-31", {"K12": "22" * 32})
ROSTER = new_roster([("a", ALICE.public_key()), ("b", BOB.public_key())], quorum=2)


def _body(**extra: Any) -> dict[str, Any]:
    return {"project_id": TERMS.project_id, "decision": "approve", "reason": "",
            "public_reason": "", "project_terms": TERMS.model_dump(mode="json"),
            "project_digest": project_digest(TERMS), "decided_at": NOW, **extra}


def test_criteria_are_signed_with_the_decision() -> None:
    answers = (CriterionAnswer(id="irb", met=True),
               CriterionAnswer(id="minimum_necessary", met=True, note="three years"))
    envelope = sign_statement(GovernanceDecision.model_validate(_body(criteria=answers)),
                              ALICE)
    assert envelope.body["criteria"][1] == {"id": "minimum_necessary", "met": True,
                                            "note": "three years"}
    read = GovernanceDecision.model_validate(envelope.body)
    assert read.criteria == answers
    # Changing an answer after signing breaks the signature.
    tampered = envelope.model_copy(update={"body": {
        **envelope.body, "criteria": [{"id": "irb", "met": False, "note": "x"}]}})
    with pytest.raises(BadSignatureError):
        verify_statement(tampered, keyring=ROSTER.keyring(), typ=GovernanceDecision.TYP)


def test_statement_without_criteria_still_verifies_and_counts() -> None:
    # A decision signed before checklists existed: its body has no "criteria" key at all.
    old_body = _body()
    old_body["decided_at"] = NOW.isoformat().replace("+00:00", "Z")
    old = [SignedEnvelope.model_validate(sign(
        old_body, typ=GovernanceDecision.TYP, private_key=key, ttl_seconds=3600).model_dump())
        for key in (ALICE, BOB)]
    assert "criteria" not in old[0].body
    assert GovernanceDecision.model_validate(old[0].body).criteria == ()
    quorum = require_quorum(ROSTER, old, project_id=TERMS.project_id,
                            digest=project_digest(TERMS))
    assert len(quorum.approvers) == 2


@pytest.mark.parametrize("criteria", [
    [{"id": "irb", "met": True}, {"id": "irb", "met": False, "note": "x"}],
    [{"id": "Not An Id", "met": True}],
    [{"id": "irb", "met": True, "surprise": 1}],
    [{"id": "irb", "met": True, "note": "n" * 2001}],
])
def test_malformed_criteria_refused(criteria: list[dict[str, Any]]) -> None:
    with pytest.raises(ValidationError):
        GovernanceDecision.model_validate(_body(criteria=criteria))
