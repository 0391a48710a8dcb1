"""The approval rule: every agency asked for data, plus a governance quorum.

A request is approved only when

* every agency whose data it asks for has an ``approve`` steward decision, signed on that
  agency's node, over the request's *current* terms digest for that agency; and
* at least ``quorum`` distinct governance members approved it in the current review
  round, none of them the requester (reviews with a conflict of interest are refused
  before they get here, and :func:`evaluate` ignores any that slipped through).

Any agency's denial, or any governance denial, denies; a governance request for changes
sends the request back to the researcher. Otherwise the request stays under review and
:attr:`Outcome.waiting_for` says what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Longest public reason of a denial (a sentence or two for the public list).
PUBLIC_REASON_MAX = 1000
#: The smallest governance quorum (docs/governance-policy.md): no request is decided by one
#: member, whatever a caller passes (the hub's settings refuse less at load time).
MIN_QUORUM = 2


@dataclass(frozen=True, slots=True)
class AgencyVote:
    agency: str
    decision: str  # "approve" | "deny"
    terms_digest: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class GovernanceVote:
    reviewer_id: int
    decision: str  # "approve" | "deny" | "request_changes"
    reason: str = ""
    #: A denial's reason written for the public (the transparency list shows it).
    public_reason: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """``status`` is ``approved``, ``denied``, ``changes_requested`` or ``pending``."""

    status: str
    reason: str = ""
    denial_category: str | None = None
    #: A denial's reason for the public; ``reason`` (internal) may name people or internals.
    public_reason: str = ""
    waiting_for: tuple[str, ...] = field(default=())


def evaluate(
    *,
    required_agencies: Iterable[str],
    current_digests: Mapping[str, str],
    agency_votes: Iterable[AgencyVote],
    governance_votes: Iterable[GovernanceVote],
    quorum: int,
    requester_id: int,
) -> Outcome:
    """Apply the rule (module docstring) to the votes of the current round."""
    if quorum < MIN_QUORUM:
        raise ValueError(f"quorum must be at least {MIN_QUORUM}")
    latest: dict[str, AgencyVote] = {}
    for vote in agency_votes:
        latest[vote.agency] = vote  # later votes of an agency replace earlier ones
    for agency in sorted(latest):
        vote = latest[agency]
        if vote.decision == "deny":
            # A steward's signed decision carries only the internal reason (it may name
            # agency internals): the public learns which agency declined, nothing more.
            return Outcome("denied", f"{agency}: {vote.reason}", denial_category="agency",
                           public_reason=f"The data steward of {agency} declined to provide "
                           "the requested data.")
    governance = [v for v in governance_votes if v.reviewer_id != requester_id]
    for vote in governance:
        if vote.decision == "deny":
            return Outcome("denied", vote.reason, denial_category="governance",
                           public_reason=vote.public_reason)
    for vote in governance:
        if vote.decision == "request_changes":
            return Outcome("changes_requested", vote.reason)
    missing: list[str] = []
    for agency in sorted(set(required_agencies)):
        vote = latest.get(agency)
        if vote is None or vote.decision != "approve":
            missing.append(f"agency {agency}")
        elif vote.terms_digest != current_digests.get(agency):
            missing.append(f"agency {agency} (approved different terms)")
    approvers = {v.reviewer_id for v in governance if v.decision == "approve"}
    if len(approvers) < quorum:
        missing.append(f"{quorum - len(approvers)} more governance approval(s)")
    if missing:
        return Outcome("pending", waiting_for=tuple(missing))
    return Outcome("approved", f"approved by {len(approvers)} governance members and "
                   f"{len(latest)} agencies")
