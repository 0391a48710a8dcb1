"""Amendments, extensions and renewals of approved agreements (docs/amendments.md).

An approved (or ready) project's researcher proposes a new version of its agreement; the
project moves to ``amending`` under the same id and a new review round. ``Request.dsa``
holds the proposal while it is reviewed (it is what stewards and governance sign); the
version in force stays in its :class:`~hub.db.models.AgreementVersion` row and governs
access meanwhile (:func:`hub.services.terms.in_force_dsa`). The approval rule is the usual
one (:mod:`hub.domain.approval`) with one difference: an agency whose terms digest is
unchanged keeps its approval in force (:func:`carried_votes`), so only the agencies whose
terms changed are asked again; the governance quorum always is. Decided
(:func:`conclude`), the project returns to where it was (approved or ready) under the new
version — same project id, same salt — or under the old one.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from hub.db.models import AgreementVersion, Request
from hub.domain import approval
from hub.domain.amendments import Change, check_kind, diff
from hub.domain.dsa import DataSharingAgreement
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller, Role
from hub.errors import (
    ConflictError,
    HubError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from hub.persistence import requests as request_store
from hub.persistence import versions as store
from hub.services import audit, policy
from hub.services.context import HubContext
from hub.services.output_policy import check_policy
from hub.services.requests import (
    check_against_catalog,
    move,
    refuse_return_disposition,
    visible_request,
)
from hub.services.terms import current_digests, in_force_dsa, load_dsa
from protocol.signing import describe_validation_error

S = RequestStatus
#: States an amendment may be proposed from (and returns to).
AMENDABLE = (S.APPROVED, S.READY)


def _fields(request_id: str) -> dict[str, Any]:
    return {"object_type": "request", "object_id": request_id, "project": request_id}


def record_original(session: Session, caller: Caller, request: Request) -> None:
    """At the first approval: the agreement becomes version 1, in force, authorised by
    this round (called by :func:`hub.services.reviews.apply_rule`)."""
    when = request.decided_at or request.updated_at
    store.add_version(session, request_id=request.id, version=1, kind="original",
                      dsa=request.dsa, reason="", status="in_force", round_=request.round,
                      from_status=None, created_by=caller.actor, created_at=when,
                      decided_at=when)
    request.version = 1
    request.approved_round = request.round


def carried_votes(session: Session, request: Request,
                  digests: dict[str, str]) -> list[approval.AgencyVote]:
    """Once a version is in force: the approvals of agencies whose terms digest the
    current round leaves unchanged — each agency's last decision up to the round that
    approved the version in force, kept if it approved exactly these terms. In an
    amendment round these are the agencies not asked again; after it they still count
    (the request's progress stays complete). Empty before the first approval."""
    if request.approved_round is None:
        return []
    last: dict[str, Any] = {}
    for decision in request_store.agency_decisions(session, request_id=request.id):
        if decision.round <= request.approved_round:
            last[decision.agency_code] = decision
    return [approval.AgencyVote(code, "approve", d.terms_digest, d.reason)
            for code, d in sorted(last.items())
            if d.decision == "approve" and digests.get(code) == d.terms_digest]


def is_reconfirmation(request: Request, decision: str) -> bool:
    """A steward's ``approve`` of an approved (or ready) project outside review: the terms
    in force confirmed again on the node (after an amendment it approved was denied or
    withdrawn, the node holds the proposal's terms until then). Recorded in the round that
    approved the version in force (:func:`hub.services.reviews.steward_decision`)."""
    return (decision == "approve" and request.status in AMENDABLE
            and request.approved_round is not None)


def asked_agencies(session: Session, request: Request) -> list[str]:
    """The agencies whose stewards must decide the current round: all of them on a first
    review, only those whose terms changed in an amendment round."""
    digests = current_digests(request)
    carried = {v.agency for v in carried_votes(session, request, digests)}
    return [a for a in load_dsa(request).agencies if a not in carried]


def _validated(data: dict[str, Any]) -> DataSharingAgreement:
    try:
        return DataSharingAgreement.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(describe_validation_error(exc)) from None


def _in_force_row(session: Session, request: Request) -> AgreementVersion:
    row = store.get_version(session, request_id=request.id, version=request.version,
                            lock=True)
    if row is None:  # approved before versions existed and not migrated: refuse, loudly
        raise ConflictError(f"project {request.id} has no version in force on record",
                            code="no_version_in_force")
    return row


def _owned(session: Session, caller: Caller, request_id: str) -> Request:
    request = visible_request(session, caller, request_id=request_id, lock=True)
    principal = caller.principal
    if principal is None or principal.role != Role.RESEARCHER or \
            principal.id != request.researcher_id:
        raise PermissionDeniedError("only the project's researcher proposes or withdraws "
                                    "changes to its agreement", code="not_requester")
    return request


def propose(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
            kind: str, dsa: dict[str, Any], reason: str) -> AgreementVersion:
    """The researcher proposes ``dsa`` (the complete new agreement) as the next version;
    the project moves to ``amending`` and the proposal straight to review. Refusals (409
    ``not_amendable``/``term_ended``/``not_renewable``, 422 with what is wrong) are audited."""
    fields = _fields(request_id)
    try:
        request = _owned(session, caller, request_id)
        if request.status not in AMENDABLE:
            raise ConflictError(
                f"project {request.id} is {request.status}; only an approved or ready "
                "project (no run in progress, no other amendment under review) can be "
                "amended, extended or renewed", code="not_amendable")
        if not reason.strip():
            raise InvalidInputError("say why the agreement changes (reason)",
                                    code="reason_required")
        current = _in_force_row(session, request)
        in_force = _validated(current.dsa)
        proposed = _validated(dsa)
        if proposed.extract.k_anonymity is None:
            # The k the stewards signed stays unless the proposal names another.
            proposed = proposed.model_copy(update={"extract": proposed.extract.model_copy(
                update={"k_anonymity": in_force.extract.k_anonymity})})
        if proposed.disposition != in_force.disposition:
            # An agreement stored before `return` was withdrawn keeps it (read as destroy);
            # a proposal may not newly choose it.
            refuse_return_disposition(proposed)
        check_policy(ctx.settings, proposed.outputs)
        policy.check_agreement(session, ctx, requester_id=request.researcher_id, dsa=proposed)
        check_against_catalog(session, proposed)
        document = proposed.model_dump(mode="json")
        # Both sides as the hub writes them today (fields added since have their defaults).
        changes = diff(in_force.model_dump(mode="json"), document)
        check_kind(kind, in_force=in_force, proposed=proposed, changes=changes,
                   today=ctx.now().date())
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="request.amendment_refused", **fields,
                     detail={"kind": kind})
    now = ctx.now()
    request.round += 1
    row = store.add_version(session, request_id=request.id, version=request.version + 1,
                            kind=kind, dsa=document, reason=reason.strip(),
                            status="proposed", round_=request.round,
                            from_status=request.status, created_by=caller.actor,
                            created_at=now)
    request.dsa = document
    request.title = proposed.title
    request.submitted_at = now
    request.needs_edit = False
    # Stewards of agencies added and of agencies in force both see it while it is reviewed.
    request_store.set_request_agencies(
        session, request_id=request.id, agencies={*in_force.agencies, *proposed.agencies})
    move(session, ctx, caller, request, S.AMENDING, reason=reason.strip(),
         action="request.amending")
    audit.record(session, ctx, caller, action="request.amendment_proposed", **fields, detail={
        "version": row.version, "kind": kind, "round": request.round,
        "changed": [c.path for c in changes][:50],
        "agencies_asked": asked_agencies(session, request)})
    session.commit()
    return row


def withdraw(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
             reason: str = "") -> AgreementVersion:
    """The researcher withdraws the proposal under review: the version in force stays."""
    fields = _fields(request_id)
    try:
        request = _owned(session, caller, request_id)
        if request.status != S.AMENDING:
            raise ConflictError(f"project {request.id} is {request.status}; no amendment is "
                                "under review", code="not_amending")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="request.amendment_refused", **fields)
    row = _restore(session, ctx, caller, request, status="withdrawn",
                   reason=reason.strip() or "withdrawn by the researcher",
                   action="request.amendment_withdrawn")
    session.commit()
    return row


def lapse(session: Session, ctx: HubContext, caller: Caller, request: Request) -> None:
    """The term in force ended while a proposal was under review (the daily expiry,
    :func:`hub.services.requests.expire_due`): the proposal is withdrawn, the version in
    force restored; the caller then ends the project."""
    _restore(session, ctx, caller, request, status="withdrawn",
             reason="the term in force ended before the proposal was decided",
             action="request.amendment_lapsed")


def conclude(session: Session, ctx: HubContext, caller: Caller, request: Request,
             outcome: approval.Outcome) -> None:
    """Apply a decided amendment round (from :func:`hub.services.reviews.apply_rule`):
    approved — the proposal is in force, the old version superseded, the term updated,
    the salt kept; denied or sent back — the version in force is restored."""
    if outcome.status != "approved":
        denied = outcome.status == "denied"
        _restore(session, ctx, caller, request, status="denied" if denied else "returned",
                 reason=outcome.reason, action="request.amendment_denied" if denied
                 else "request.amendment_returned")
        return
    row = _proposal(session, request)
    previous = _in_force_row(session, request)
    now = ctx.now()
    previous.status = "superseded"
    row.status, row.decided_at, row.decision_reason = "in_force", now, outcome.reason
    dsa = load_dsa(request)
    request.version = row.version
    request.approved_round = request.round
    request.approved_term_start = dsa.term_start
    request.approved_term_end = dsa.term_end
    request_store.set_request_agencies(session, request_id=request.id, agencies=dsa.agencies)
    move(session, ctx, caller, request, S(row.from_status or S.APPROVED),
         reason=outcome.reason, action="request.amendment_approved")
    audit.record(session, ctx, caller, action="request.version_in_force",
                 **_fields(request.id), detail={"version": row.version, "kind": row.kind,
                                                "superseded": previous.version,
                                                "term_end": dsa.term_end.isoformat()})


def _proposal(session: Session, request: Request) -> AgreementVersion:
    row = store.latest_version(session, request_id=request.id, lock=True)
    if row is None or row.status != "proposed":
        raise ConflictError(f"project {request.id} has no proposal under review",
                            code="not_amending")
    return row


def _restore(session: Session, ctx: HubContext, caller: Caller, request: Request, *,
             status: str, reason: str, action: str) -> AgreementVersion:
    """Close the proposal as ``status`` and put the version in force back in place. The
    approved round is unchanged, so match requests keep carrying its signatures."""
    row = _proposal(session, request)
    in_force = _in_force_row(session, request)
    row.status, row.decided_at, row.decision_reason = status, ctx.now(), reason
    request.dsa = in_force.dsa
    request.title = str(in_force.dsa.get("title", request.title))
    request_store.set_request_agencies(session, request_id=request.id,
                                       agencies=_validated(in_force.dsa).agencies)
    move(session, ctx, caller, request, S(row.from_status or S.APPROVED), reason=reason,
         action=action)
    return row


# --- reading ---------------------------------------------------------------------------


def versions(session: Session, ctx: HubContext, caller: Caller, *,
             request_id: str) -> tuple[Request, list[AgreementVersion]]:
    """The project's versions, oldest first (whoever may see the request)."""
    request = visible_request(session, caller, request_id=request_id)
    return request, store.list_versions(session, request_id=request.id)


def version(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
            number: int) -> tuple[Request, AgreementVersion]:
    """One version, its agreement included; reading it is an audited data access."""
    request = visible_request(session, caller, request_id=request_id)
    row = store.get_version(session, request_id=request.id, version=number)
    if row is None:
        raise NotFoundError(f"project {request_id} has no version {number}")
    audit.record(session, ctx, caller, action="request.version_viewed",
                 **_fields(request.id), detail={"version": number})
    session.commit()
    return request, row


def version_diff(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
                 number: int) -> tuple[AgreementVersion, AgreementVersion | None, list[Change]]:
    """What version ``number`` changed: field by field against the version before it
    (version 1 against nothing: every field is new)."""
    request, row = version(session, ctx, caller, request_id=request_id, number=number)
    before = (store.get_version(session, request_id=request.id, version=number - 1)
              if number > 1 else None)
    base = _base_of(session, request, row) if before is not None else None
    return row, base, diff(base.dsa if base is not None else {}, row.dsa)


def _base_of(session: Session, request: Request,
             row: AgreementVersion) -> AgreementVersion | None:
    """The version ``row`` was proposed against: the newest earlier one that was in force
    (denied or withdrawn proposals in between never were)."""
    earlier = [v for v in store.list_versions(session, request_id=request.id)
               if v.version < row.version and v.status in ("in_force", "superseded")]
    return earlier[-1] if earlier else None


def in_force_view(request: Request) -> dict[str, Any]:
    """The in-force agreement's key facts (for the versions listing)."""
    dsa = in_force_dsa(request)
    return {"term_start": dsa.term_start.isoformat(), "term_end": dsa.term_end.isoformat()}
