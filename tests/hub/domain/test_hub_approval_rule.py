"""The approval rule in isolation (hub.domain.approval)."""

from __future__ import annotations

import pytest

from hub.domain.approval import AgencyVote, GovernanceVote, evaluate

DIGESTS = {"K12": "a" * 64, "HE": "b" * 64}


def _evaluate(agency_votes, governance_votes, quorum=2, requester_id=99):
    return evaluate(required_agencies=["K12", "HE"], current_digests=DIGESTS,
                    agency_votes=agency_votes, governance_votes=governance_votes,
                    quorum=quorum, requester_id=requester_id)


def _both_agencies():
    return [AgencyVote("K12", "approve", DIGESTS["K12"]),
            AgencyVote("HE", "approve", DIGESTS["HE"])]


def test_all_agencies_and_quorum_approve() -> None:
    outcome = _evaluate(_both_agencies(),
                        [GovernanceVote(1, "approve"), GovernanceVote(2, "approve")])
    assert outcome.status == "approved"


def test_one_agency_missing_is_not_approved() -> None:
    outcome = _evaluate(_both_agencies()[:1], [GovernanceVote(1, "approve"),
                                               GovernanceVote(2, "approve")])
    assert outcome.status == "pending"
    assert "agency HE" in outcome.waiting_for


def test_requester_does_not_count_toward_quorum() -> None:
    outcome = _evaluate(_both_agencies(), [GovernanceVote(1, "approve"),
                                           GovernanceVote(99, "approve")])
    assert outcome.status == "pending"
    assert outcome.waiting_for == ("1 more governance approval(s)",)


def test_same_member_twice_counts_once() -> None:
    outcome = _evaluate(_both_agencies(),
                        [GovernanceVote(1, "approve"), GovernanceVote(1, "approve")])
    assert outcome.status == "pending"


def test_agency_approval_of_other_terms_does_not_count() -> None:
    votes = [AgencyVote("K12", "approve", "c" * 64), AgencyVote("HE", "approve", DIGESTS["HE"])]
    outcome = _evaluate(votes, [GovernanceVote(1, "approve"), GovernanceVote(2, "approve")])
    assert outcome.status == "pending"
    assert "agency K12 (approved different terms)" in outcome.waiting_for


def test_one_agency_denying_denies_with_its_reason() -> None:
    votes = [AgencyVote("K12", "deny", DIGESTS["K12"], "FERPA concerns"),
             AgencyVote("HE", "approve", DIGESTS["HE"])]
    outcome = _evaluate(votes, [GovernanceVote(1, "approve"), GovernanceVote(2, "approve")])
    assert (outcome.status, outcome.denial_category) == ("denied", "agency")
    assert outcome.reason == "K12: FERPA concerns"


def test_governance_denial_denies() -> None:
    outcome = _evaluate(_both_agencies(), [GovernanceVote(1, "deny", "no public benefit")])
    assert (outcome.status, outcome.denial_category, outcome.reason) == (
        "denied", "governance", "no public benefit")


def test_request_for_changes_sends_back() -> None:
    outcome = _evaluate([], [GovernanceVote(1, "request_changes", "narrow the cohort")])
    assert (outcome.status, outcome.reason) == ("changes_requested", "narrow the cohort")


def test_stricter_quorum_needs_more_members() -> None:
    votes = [GovernanceVote(1, "approve"), GovernanceVote(2, "approve")]
    assert _evaluate(_both_agencies(), votes, quorum=3).status == "pending"
    votes.append(GovernanceVote(3, "approve"))
    assert _evaluate(_both_agencies(), votes, quorum=3).status == "approved"


def test_quorum_below_two_is_never_applied() -> None:
    # Governance policy (docs/governance-policy.md): whatever a caller passes, one member's
    # approval never decides a request.
    with pytest.raises(ValueError, match="at least 2"):
        _evaluate(_both_agencies(), [GovernanceVote(1, "approve")], quorum=1)
