"""Governance reviews, node-signed steward decisions, and applying the approval rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain import approval
from hub.domain.lifecycle import UNDER_REVIEW, RequestStatus
from hub.domain.roles import Caller
from hub.errors import (
    ConflictError,
    DecisionRefusedError,
    HubError,
    InvalidInputError,
    PermissionDeniedError,
)
from hub.persistence import agencies as agency_store
from hub.persistence import requests as store
from hub.persistence.nonces import DbReplayGuard
from hub.services import amendments, audit, governance, policy
from hub.services.context import HubContext
from hub.services.requests import check_against_catalog, move, visible_request
from hub.services.terms import agency_terms, current_digests, load_dsa
from protocol.canonical import b64url_encode
from protocol.errors import ProtocolError
from protocol.governance import CriterionAnswer, GovernanceDecision
from protocol.keyfiles import ed25519_public_from_b64
from protocol.keys import generate_project_salt
from protocol.signing import SignedEnvelope, verify
from protocol.wire import StewardDecision, body_as

S = RequestStatus
REVIEW_DECISIONS = ("approve", "deny", "request_changes")
#: IRB statuses under which a request may be approved when the hub requires IRB approval.
IRB_CLEARED = ("approved", "exempt")


def irb_blocks_approval(ctx: HubContext, request: Request) -> str | None:
    """Why the governance policy refuses to approve ``request`` now (its IRB status is not
    approved or exempt and the hub setting ``require_irb_approval`` is on), else ``None``."""
    status = load_dsa(request).irb.status
    if not ctx.settings.require_irb_approval or status in IRB_CLEARED:
        return None
    return (f"the agreement's IRB status is {status!r}: this hub approves a request only "
            "once its IRB approval (or exemption) is recorded; deny it or request changes")


def _check_public_reason(decision: str, public_reason: str) -> None:
    if decision != "deny":
        return
    if not public_reason.strip():
        raise InvalidInputError(
            "a deny decision needs a public_reason: a reason written for the public, shown "
            "on the public list (the reason stays internal)", code="public_reason_required")
    if len(public_reason) > approval.PUBLIC_REASON_MAX:
        raise InvalidInputError(
            f"public_reason is longer than {approval.PUBLIC_REASON_MAX} characters",
            code="public_reason_too_long")


def _require_under_review(request: Request) -> None:
    if request.status not in UNDER_REVIEW:
        raise ConflictError(
            f"request {request.id} is {request.status}; decisions are accepted only while "
            "it is submitted or in review", code="not_under_review",
        )


def _conflicted(session: Session, caller: Caller, request: Request) -> bool:
    """The conflict-of-interest rule of :mod:`hub.services.conflicts`: the requester, a
    member's own recusal, or a personnel entry naming the member that they have not yet
    answered — the researcher's personnel list alone never picks the reviewers."""
    from hub.services.conflicts import is_conflicted

    principal = caller.principal
    assert principal is not None
    return is_conflicted(session, principal, request)


def review(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
           decision: str, reason: str = "", public_reason: str = "",
           criteria: Sequence[CriterionAnswer] = (),
           signed: tuple[SignedEnvelope, GovernanceDecision] | None = None) -> Request:
    """A governance member's review in the current round. Once a governance roster exists
    an approval must come ``signed`` by the member's own key (:func:`signed_review`): the
    web page and the unsigned API can deny or send back, never approve. A denial needs a
    ``public_reason`` besides its internal ``reason``; an approval of a request without
    IRB approval is refused while the hub requires it (:func:`irb_blocks_approval`).
    ``criteria`` answer the hub's review checklist (:func:`hub.services.policy.
    check_criteria`; a signed review's are the ones it signed): an approval must answer
    every criterion as met (422 ``criteria_incomplete``, audited)."""
    request = visible_request(session, caller, request_id=request_id, lock=True)
    fields = {"object_type": "request", "object_id": request.id, "project": request.id}
    if decision not in REVIEW_DECISIONS:
        raise InvalidInputError(f"decision must be one of {', '.join(REVIEW_DECISIONS)}")
    if decision == "approve" and signed is None and governance.requires_signature(session):
        audit.refuse(session, ctx, caller, ConflictError(
            "an approval must be signed with your governance key: "
            "`fedlink review approve REQUEST --key-file KEY`", code="signature_required"),
            action="request.review_refused", **fields)
    if decision != "approve" and not reason.strip():
        raise InvalidInputError(f"a {decision.replace('_', ' ')} decision needs a reason")
    _check_public_reason(decision, public_reason)
    _require_under_review(request)
    irb = irb_blocks_approval(ctx, request) if decision == "approve" else None
    if irb is not None:
        audit.refuse(session, ctx, caller, ConflictError(irb, code="irb_not_approved"),
                     action="request.review_refused", **fields)
    assert caller.principal is not None and caller.principal.id is not None
    if _conflicted(session, caller, request):
        audit.refuse(session, ctx, caller, PermissionDeniedError(
            "a member of the project team cannot review its request",
            code="conflict_of_interest"), action="request.review_refused", **fields)
    if any(r.reviewer_id == caller.principal.id
           for r in store.reviews(session, request_id=request.id, round_=request.round)):
        raise ConflictError("you already reviewed this round of the request",
                            code="already_reviewed")
    # The checklist last: who may review at all, and the IRB rule, are refused first.
    try:
        answers = policy.check_criteria(
            ctx, decision=decision, answers=signed[1].criteria if signed else criteria)
    except InvalidInputError as exc:
        if exc.code != "criteria_incomplete":
            raise
        audit.refuse(session, ctx, caller, exc, action="request.review_refused", **fields)
    if request.status == S.SUBMITTED:
        move(session, ctx, caller, request, S.IN_REVIEW, action="request.in_review")
    row = store.add_review(session, request_id=request.id, reviewer_id=caller.principal.id,
                           round_=request.round, decision=decision, reason=reason,
                           public_reason=public_reason if decision == "deny" else "")
    policy.record_criteria(session, review_id=row.id, answers=answers)
    if signed is not None:
        governance.record_signed_review(session, request=request, round_=request.round,
                                        envelope=signed[0], decision=signed[1])
    audit.record(session, ctx, caller, action="request.reviewed",
                 detail={"decision": decision, "round": request.round,
                         "criteria": {a.criterion: a.met for a in answers}}, **fields)
    apply_rule(session, ctx, caller, request)
    session.commit()
    return request


def signed_review(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
                  body: bytes) -> Request:
    """A review signed by the member's own governance key (protocol.governance): verified,
    kept as evidence for the nodes, and counted as the member's review."""
    request = visible_request(session, caller, request_id=request_id, lock=True)
    try:
        envelope, decision = governance.verify_signed_review(session, caller, request, body)
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="request.review_refused",
                     object_type="request", object_id=request.id, project=request.id)
    return review(session, ctx, caller, request_id=request_id, decision=decision.decision,
                  reason=decision.reason, public_reason=decision.public_reason,
                  signed=(envelope, decision))


def steward_decision(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
                     body: bytes) -> Request:
    """Accept a node-signed steward decision (docs/protocol.md) or refuse it, audited."""
    principal = caller.principal
    assert principal is not None and principal.agency is not None
    fields = {"object_type": "request", "object_id": request_id, "project": request_id,
              "agency": principal.agency}
    try:
        request = visible_request(session, caller, request_id=request_id, lock=True)
        agency = agency_store.get_agency(session, code=principal.agency)
        if agency is None or agency.signing_kid is None or agency.signing_public_key is None:
            raise DecisionRefusedError("this agency has no enrolled signing key",
                                       code="not_enrolled", status=403)
        keyring = {agency.signing_kid: ed25519_public_from_b64(agency.signing_public_key)}
        envelope = verify(body, keyring=keyring, expected_typ=StewardDecision.TYP,
                          replay_guard=DbReplayGuard(session), now=ctx.now_ts(),
                          max_ttl=ctx.settings.max_message_ttl)
        decision = body_as(envelope, StewardDecision)
        if decision.agency != principal.agency:
            raise DecisionRefusedError(
                f"the decision is for agency {decision.agency}, not this node's "
                f"{principal.agency}", code="wrong_agency", status=403)
        if decision.project_id != request.id:
            raise DecisionRefusedError("the decision names another project",
                                       code="project_mismatch", status=422)
        # A steward re-approving the terms in force of an approved project (after an
        # amendment they approved was denied or withdrawn: docs/amendments.md) confirms
        # them; nothing else is accepted outside review.
        reconfirming = amendments.is_reconfirmation(request, decision.decision)
        if not reconfirming:
            _require_under_review(request)
        digest = agency_terms(request, principal.agency)["terms_digest"]
        if decision.terms_digest != digest:
            raise DecisionRefusedError(
                "the decision approves terms that are no longer current; fetch the terms "
                "again", code="stale_terms")
    except (HubError, ProtocolError) as exc:
        audit.refuse(session, ctx, caller, exc, action="request.decision_refused", **fields)
    if request.status == S.SUBMITTED:
        move(session, ctx, caller, request, S.IN_REVIEW, action="request.in_review")
    verdict = "approve" if decision.decision == "approve" else "deny"
    # Set at approval for every project that can be reconfirmed (migration 0014 backfills).
    round_ = (request.approved_round or request.round) if reconfirming else request.round
    store.add_agency_decision(
        session, request_id=request.id, agency_code=principal.agency, round_=round_,
        decision=verdict, reason=decision.reason, terms_digest=decision.terms_digest,
        envelope=envelope.model_dump(mode="json"),
    )
    audit.record(session, ctx, caller, action="request.agency_reconfirmed" if reconfirming
                 else "request.agency_decision",
                 detail={"decision": verdict, "kid": envelope.kid, "round": round_},
                 **fields)
    if not reconfirming:
        apply_rule(session, ctx, caller, request)
    session.commit()
    return request


def progress(session: Session, ctx: HubContext, request: Request) -> approval.Outcome:
    """Where the current round stands under the approval rule."""
    dsa = load_dsa(request)
    classifications = check_classifications(session, request)
    digests = current_digests(request)
    outcome = approval.evaluate(
        required_agencies=dsa.agencies,
        current_digests=digests,
        # An amendment round first counts the approvals in force of agencies whose terms
        # did not change (not asked again, docs/amendments.md); this round's votes follow.
        agency_votes=[
            *amendments.carried_votes(session, request, digests),
            *(approval.AgencyVote(d.agency_code, d.decision, d.terms_digest, d.reason)
              for d in store.agency_decisions(session, request_id=request.id,
                                              round_=request.round)),
        ],
        governance_votes=[
            approval.GovernanceVote(r.reviewer_id, r.decision, r.reason, r.public_reason)
            for r in store.reviews(session, request_id=request.id, round_=request.round)
        ],
        quorum=policy.quorum(ctx, request, classifications),
        requester_id=request.researcher_id,
    )
    if (request.status in UNDER_REVIEW and outcome.status in ("pending", "approved")
            and irb_blocks_approval(ctx, request)):
        # The policy's own wait: no approval counts until the IRB's is in the agreement
        # (a request approved before the policy was switched on stays approved).
        return dataclasses.replace(outcome, status="pending", waiting_for=(
            *outcome.waiting_for, f"IRB approval (the agreement says {dsa.irb.status!r})"))
    return outcome


def check_classifications(session: Session, request: Request) -> set[str]:
    try:
        return check_against_catalog(session, load_dsa(request))
    except InvalidInputError:
        # The catalog changed under a submitted request: be as strict as possible.
        return {"restricted"}


def apply_rule(session: Session, ctx: HubContext, caller: Caller, request: Request) -> None:
    """Move the request if the rule decides it; at approval fix the salt and the term."""
    outcome = progress(session, ctx, request)
    if outcome.status == "pending":
        return
    if request.status == S.AMENDING:
        # A decided amendment, extension or renewal: the project goes back to where it
        # was, under the new version or the one in force (docs/amendments.md).
        amendments.conclude(session, ctx, caller, request, outcome)
        return
    now = ctx.now()
    if outcome.status == "approved":
        dsa = load_dsa(request)
        request.project_salt = b64url_encode(generate_project_salt())
        request.approved_term_start = dsa.term_start
        request.approved_term_end = dsa.term_end
        request.decided_at = now
        request.decision_reason = outcome.reason
        amendments.record_original(session, caller, request)
        move(session, ctx, caller, request, S.APPROVED, reason=outcome.reason,
              action="request.approved")
    elif outcome.status == "denied":
        request.decided_at = now
        request.decision_reason = outcome.reason
        request.denial_category = outcome.denial_category
        request.public_reason = outcome.public_reason
        move(session, ctx, caller, request, S.DENIED, reason=outcome.reason,
              action="request.denied")
    else:
        request.needs_edit = True
        request.decision_reason = outcome.reason
        move(session, ctx, caller, request, S.CHANGES_REQUESTED, reason=outcome.reason,
              action="request.changes_requested")
