"""The governance roster chain, signed decisions, quorum and revocations (protocol level)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from protocol.canonical import b64url_encode
from protocol.errors import BadSignatureError, ProtocolError, UnknownKeyError
from protocol.governance import (
    GovernanceDecision,
    GovernanceError,
    Revocation,
    Roster,
    advance_roster,
    follow_chain,
    new_roster,
    require_quorum,
    roster_digest,
    show_fingerprint,
    sign_statement,
    verify_genesis,
    verify_revocation,
)
from protocol.keyfiles import key_id
from protocol.project import ProjectTerms, project_digest, project_terms
from protocol.signing import SignedEnvelope

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
ALICE, BOB, CAROL, DAVE = (Ed25519PrivateKey.generate() for _ in range(4))
TERMS = project_terms("P-2026-001", "2026-01-01", "2027-12-31",
                      {"DSS": "11" * 32, "K12": "22" * 32})
DIGEST = project_digest(TERMS)


def roster_of(*keys: Ed25519PrivateKey, quorum: int = 2, previous: Roster | None = None) -> Roster:
    return new_roster(((f"member {i}", k.public_key()) for i, k in enumerate(keys)),
                      quorum=quorum, previous=previous)


def signed_by(body: Roster, *keys: Ed25519PrivateKey) -> list[SignedEnvelope]:
    return [sign_statement(body, k) for k in keys]


def decision(key: Ed25519PrivateKey, *, verdict: str = "approve",
             terms: ProjectTerms = TERMS) -> SignedEnvelope:
    body = GovernanceDecision(project_id=terms.project_id, decision=verdict,  # type: ignore[arg-type]
                              reason="" if verdict == "approve" else "no",
                              project_terms=terms, project_digest=project_digest(terms),
                              decided_at=NOW)
    return sign_statement(body, key)


GENESIS = roster_of(ALICE, BOB, CAROL)


# --- roster -----------------------------------------------------------------------------------


def test_genesis_signed_by_its_own_quorum_is_pinned_by_fingerprint() -> None:
    pinned = verify_genesis(signed_by(GENESIS, ALICE, BOB), fingerprint=roster_digest(GENESIS))
    assert pinned == GENESIS
    shown = show_fingerprint(roster_digest(GENESIS))
    assert verify_genesis(signed_by(GENESIS, ALICE, CAROL), fingerprint=shown) == GENESIS


def test_genesis_with_other_fingerprint_refused() -> None:
    other = roster_of(ALICE, BOB, DAVE)
    with pytest.raises(GovernanceError) as info:
        verify_genesis(signed_by(other, ALICE, BOB), fingerprint=roster_digest(GENESIS))
    assert info.value.reason == "roster_chain_broken"


def test_genesis_below_its_own_quorum_refused() -> None:
    with pytest.raises(GovernanceError) as info:
        verify_genesis(signed_by(GENESIS, ALICE), fingerprint=None)
    assert info.value.reason == "roster_not_quorum"


def test_roster_update_signed_by_quorum_of_current_members_accepted() -> None:
    update = roster_of(ALICE, BOB, DAVE, quorum=2, previous=GENESIS)
    assert advance_roster(GENESIS, signed_by(update, BOB, CAROL)) == update
    assert follow_chain(GENESIS, [signed_by(update, ALICE, CAROL)]).version == 2


def test_roster_update_signed_by_non_quorum_refused() -> None:
    update = roster_of(ALICE, DAVE, quorum=1, previous=GENESIS)
    with pytest.raises(GovernanceError) as info:
        advance_roster(GENESIS, signed_by(update, ALICE))
    assert info.value.reason == "roster_not_quorum"


def test_roster_update_signed_by_the_new_members_only_refused() -> None:
    # The members it adds cannot vouch for themselves: only the current roster counts.
    eve = Ed25519PrivateKey.generate()
    update = roster_of(DAVE, eve, quorum=2, previous=GENESIS)
    with pytest.raises(GovernanceError) as info:
        advance_roster(GENESIS, signed_by(update, DAVE, eve))
    assert info.value.reason == "roster_not_quorum"


def test_roster_update_with_duplicate_signer_counts_once() -> None:
    update = roster_of(ALICE, BOB, quorum=2, previous=GENESIS)
    with pytest.raises(GovernanceError):
        advance_roster(GENESIS, [sign_statement(update, ALICE), sign_statement(update, ALICE)])


def test_roster_update_forged_signature_does_not_count() -> None:
    update = roster_of(ALICE, DAVE, quorum=1, previous=GENESIS)
    good = sign_statement(update, ALICE)
    forged = sign_statement(update, DAVE).model_copy(update={"kid": key_id(BOB.public_key())})
    with pytest.raises(GovernanceError) as info:
        advance_roster(GENESIS, [good, forged])
    assert info.value.reason == "roster_not_quorum"


def test_roster_update_skipping_a_version_refused() -> None:
    v2 = roster_of(ALICE, BOB, DAVE, previous=GENESIS)
    v3 = roster_of(ALICE, BOB, previous=v2)
    with pytest.raises(GovernanceError) as info:
        advance_roster(GENESIS, signed_by(v3, ALICE, BOB))
    assert info.value.reason == "roster_chain_broken"


def test_signatures_over_different_rosters_refused() -> None:
    one = roster_of(ALICE, BOB, previous=GENESIS)
    two = roster_of(ALICE, CAROL, previous=GENESIS)
    with pytest.raises(GovernanceError):
        advance_roster(GENESIS, [sign_statement(one, ALICE), sign_statement(two, BOB)])


def test_roster_shape_rules() -> None:
    with pytest.raises(ValidationError):
        roster_of(ALICE, quorum=2)  # quorum above the member count
    body = GENESIS.model_dump(mode="json")
    with pytest.raises(ValidationError):
        Roster.model_validate({**body, "members": list(reversed(body["members"]))})
    with pytest.raises(ValidationError):
        Roster.model_validate({**body, "version": 2})  # a later version names its previous
    member = {**body["members"][0], "kid": key_id(DAVE.public_key())}
    with pytest.raises(ValidationError):
        Roster.model_validate({**body, "members": [member]})


# --- decisions ----------------------------------------------------------------------------------


def test_quorum_of_members_approving_the_same_digest_is_accepted() -> None:
    quorum = require_quorum(GENESIS, [decision(ALICE), decision(CAROL)],
                            project_id=TERMS.project_id, digest=DIGEST)
    assert quorum.approvers == {key_id(ALICE.public_key()), key_id(CAROL.public_key())}


def test_request_before_quorum_refused() -> None:
    with pytest.raises(GovernanceError) as info:
        require_quorum(GENESIS, [decision(ALICE)], project_id=TERMS.project_id, digest=DIGEST)
    assert info.value.reason == "no_governance_quorum"


def test_same_member_twice_counts_once() -> None:
    with pytest.raises(GovernanceError):
        require_quorum(GENESIS, [decision(ALICE), decision(ALICE)],
                       project_id=TERMS.project_id, digest=DIGEST)


def test_forged_governance_signature_refused() -> None:
    forged = decision(DAVE).model_copy(update={"kid": key_id(BOB.public_key())})
    with pytest.raises(GovernanceError) as info:
        require_quorum(GENESIS, [decision(ALICE), forged], project_id=TERMS.project_id,
                       digest=DIGEST)
    assert info.value.reason == "no_governance_quorum"
    assert "did not verify" in str(info.value)


def test_tampered_decision_body_refused() -> None:
    other = project_terms("P-2026-001", "2026-01-01", "2027-12-31",
                          {"DSS": "11" * 32, "K12": "33" * 32})
    good = decision(BOB)
    body = {**good.body, "project_terms": other.model_dump(mode="json"),
            "project_digest": project_digest(other)}
    tampered = good.model_copy(update={"body": body})
    with pytest.raises(GovernanceError):
        require_quorum(GENESIS, [decision(ALICE), tampered], project_id=TERMS.project_id,
                       digest=project_digest(other))


def test_non_member_approval_does_not_count() -> None:
    with pytest.raises(GovernanceError):
        require_quorum(GENESIS, [decision(ALICE), decision(DAVE)],
                       project_id=TERMS.project_id, digest=DIGEST)


def test_approval_of_other_terms_does_not_count() -> None:
    other = project_terms("P-2026-001", "2026-01-01", "2028-12-31",
                          {"DSS": "11" * 32, "K12": "22" * 32})
    with pytest.raises(GovernanceError):
        require_quorum(GENESIS, [decision(ALICE), decision(BOB, terms=other)],
                       project_id=TERMS.project_id, digest=DIGEST)


def test_member_denial_refuses() -> None:
    with pytest.raises(GovernanceError) as info:
        require_quorum(GENESIS, [decision(ALICE), decision(BOB), decision(CAROL, verdict="deny")],
                       project_id=TERMS.project_id, digest=DIGEST)
    assert info.value.reason == "governance_denied"


def test_member_removed_from_roster_no_longer_counts() -> None:
    v2 = roster_of(ALICE, BOB, DAVE, previous=GENESIS)
    with pytest.raises(GovernanceError):
        require_quorum(v2, [decision(ALICE), decision(CAROL)], project_id=TERMS.project_id,
                       digest=DIGEST)


def test_decision_digest_must_match_its_terms() -> None:
    with pytest.raises(ValidationError):
        GovernanceDecision(project_id="P-2026-001", decision="approve", project_terms=TERMS,
                           project_digest="00" * 32, decided_at=NOW)


# --- revocations ----------------------------------------------------------------------------------


def revocation(key: Ed25519PrivateKey, project_id: str = "P-2026-001") -> SignedEnvelope:
    return sign_statement(Revocation(project_id=project_id, reason="consent withdrawn",
                                     revoked_at=NOW), key)


def test_one_member_can_revoke() -> None:
    body = verify_revocation(revocation(CAROL), roster=GENESIS, stewards={},
                             project_id="P-2026-001")
    assert body.reason == "consent withdrawn"


def test_steward_can_revoke_for_its_node() -> None:
    steward = Ed25519PrivateKey.generate()
    verify_revocation(revocation(steward), roster=None,
                      stewards={key_id(steward.public_key()): steward.public_key()},
                      project_id="P-2026-001")


def test_revocation_by_outsider_refused() -> None:
    with pytest.raises(UnknownKeyError):
        verify_revocation(revocation(DAVE), roster=GENESIS, stewards={}, project_id="P-2026-001")


def test_forged_revocation_refused() -> None:
    forged = revocation(DAVE).model_copy(update={"kid": key_id(ALICE.public_key())})
    with pytest.raises(BadSignatureError):
        verify_revocation(forged, roster=GENESIS, stewards={}, project_id="P-2026-001")


def test_revocation_of_other_project_refused() -> None:
    with pytest.raises(ProtocolError):
        verify_revocation(revocation(ALICE, "P-2026-002"), roster=GENESIS, stewards={},
                          project_id="P-2026-001")


def test_statement_signature_bytes_are_checked() -> None:
    good = decision(ALICE)
    bad = good.model_copy(update={"sig": b64url_encode(bytes(64))})
    with pytest.raises(GovernanceError):
        require_quorum(GENESIS, [bad, decision(BOB)], project_id=TERMS.project_id, digest=DIGEST)
