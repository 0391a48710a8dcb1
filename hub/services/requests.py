"""Research requests: drafting, editing, submitting, withdrawing, revoking, reading."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.dsa import DataSharingAgreement
from hub.domain.lifecycle import EDITABLE, RequestStatus, transition
from hub.domain.roles import Caller, Role
from hub.errors import ConflictError, InvalidInputError, NotFoundError
from hub.persistence import agencies as agency_store
from hub.persistence import requests as store
from hub.services import audit, policy
from hub.services.context import HubContext
from hub.services.identifier_variables import refuse_identifier_requests
from hub.services.output_policy import check_policy
from hub.services.terms import in_force_dsa, load_dsa
from protocol.signing import describe_validation_error

S = RequestStatus


def new_request_id() -> str:
    return f"prj-{secrets.token_hex(6)}"


def check_against_catalog(session: Session, dsa: DataSharingAgreement) -> set[str]:
    """Refuse (422) identifier-like variable names or cohort values
    (:mod:`hub.services.identifier_variables`), agencies or variables the catalog does not
    have, years it does not cover and contacts of agencies not asked; return the
    classifications requested."""
    classifications: set[str] = set()
    asked = set(dsa.agencies)
    refuse_identifier_requests(dsa)  # second line behind the nodes' own checks
    for entry in dsa.variables:
        agency = agency_store.get_agency(session, code=entry.agency)
        if agency is None:
            raise InvalidInputError(f"agency {entry.agency!r} does not exist")
        if agency.enrolled_at is None:
            raise InvalidInputError(f"agency {entry.agency!r} has not enrolled its node yet")
        known = {v.name: v for v in agency_store.catalog(session, agency_code=entry.agency)}
        cohort_vars = [c.variable for c in entry.cohort.conditions]
        for name in [*entry.variables, *cohort_vars]:
            variable = known.get(name)
            if variable is None:
                raise InvalidInputError(
                    f"variable {name!r} is not in the catalog of agency {entry.agency}"
                )
            classifications.add(variable.classification)
        for name in entry.variables:
            # A variable with no years covers none (docs/hub.md): nothing can be asked of it.
            offered = set(known[name].years)
            missing = [y for y in entry.years if y not in offered]
            if missing:
                raise InvalidInputError(
                    f"agency {entry.agency} has no {name!r} for year(s) "
                    f"{', '.join(map(str, missing))}"
                )
    for contact in dsa.agency_contacts:
        if contact.agency not in asked:
            raise InvalidInputError(
                f"agency_contacts names agency {contact.agency!r}, whose data is not requested"
            )
    return classifications


#: Why ``disposition: "return"`` is refused (docs/refresh.md, "Return of data").
RETURN_UNSUPPORTED = (
    "disposition 'return' is not supported: a linked extract holds every agency's data on "
    "each person, so returning it to one agency would hand that agency the others' data on "
    "its people; in a federation each agency keeps its own records. Use 'destroy' (the "
    "extract is crypto-shredded at the end of the term and its destruction certified)")


def refuse_return_disposition(dsa: DataSharingAgreement) -> None:
    """422 ``disposition_return_unsupported`` for an agreement that says ``return``. Checked
    whenever an agreement is drafted, edited or submitted; agreements stored with it before
    still load and are destroyed at the end of the term like any other."""
    if dsa.disposition == "return":
        raise InvalidInputError(RETURN_UNSUPPORTED, code="disposition_return_unsupported")


def _validated(data: dict[str, Any]) -> DataSharingAgreement:
    try:
        return DataSharingAgreement.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(describe_validation_error(exc)) from None


def create_request(
    session: Session, ctx: HubContext, caller: Caller, *, dsa: DataSharingAgreement
) -> Request:
    assert caller.principal is not None and caller.principal.id is not None
    refuse_return_disposition(dsa)
    check_policy(ctx.settings, dsa.outputs)
    check_against_catalog(session, dsa)
    policy.check_agreement(session, ctx, requester_id=caller.principal.id, dsa=dsa)
    request = store.create_request(
        session, request_id=new_request_id(), researcher_id=caller.principal.id,
        title=dsa.title, dsa=dsa.model_dump(mode="json"), status=S.DRAFT,
    )
    store.set_request_agencies(session, request_id=request.id, agencies=dsa.agencies)
    audit.record(session, ctx, caller, action="request.created", object_type="request",
                 object_id=request.id, project=request.id,
                 detail={"agencies": dsa.agencies})
    session.commit()
    return request


def visible_request(session: Session, caller: Caller, *, request_id: str,
                    lock: bool = False) -> Request:
    """The request if this caller may see it, else :class:`NotFoundError` (never 403, so
    nobody learns that someone else's request exists)."""
    request = store.get_request(session, request_id=request_id, lock=lock)
    principal = caller.principal
    if request is None or principal is None or not _may_see(session, principal, request):
        raise NotFoundError(f"request {request_id} does not exist")
    return request


def _may_see(session: Session, principal: Any, request: Request) -> bool:
    if principal.kind == "node":
        return request.status != S.DRAFT and principal.agency in load_dsa(request).agencies
    if principal.role == Role.RESEARCHER:
        return bool(request.researcher_id == principal.id)
    if request.status == S.DRAFT:
        return False
    if principal.role == Role.STEWARD:
        # While amending, the agencies of the version in force are parties too.
        return principal.agency in load_dsa(request).agencies or (
            request.status == "amending" and principal.agency in in_force_dsa(request).agencies)
    return principal.role in (Role.GOVERNANCE, Role.AUDITOR)


def _owned(session: Session, caller: Caller, request_id: str) -> Request:
    return visible_request(session, caller, request_id=request_id, lock=True)


def update_request(
    session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
    changes: dict[str, Any],
) -> Request:
    request = _owned(session, caller, request_id)
    if request.status not in EDITABLE:
        raise ConflictError(
            f"request {request_id} is {request.status}; only draft or changes_requested "
            "requests can be edited", code="not_editable",
        )
    if not changes:
        raise InvalidInputError("nothing to change")
    dsa = _validated({**request.dsa, **changes})
    refuse_return_disposition(dsa)
    check_policy(ctx.settings, dsa.outputs)
    check_against_catalog(session, dsa)
    policy.check_agreement(session, ctx, requester_id=request.researcher_id, dsa=dsa)
    request.dsa = dsa.model_dump(mode="json")
    request.title = dsa.title
    request.needs_edit = False
    request.updated_at = ctx.now()
    store.set_request_agencies(session, request_id=request.id, agencies=dsa.agencies)
    audit.record(session, ctx, caller, action="request.edited", object_type="request",
                 object_id=request.id, project=request.id,
                 detail={"fields": sorted(changes)})
    session.commit()
    return request


def move(session: Session, ctx: HubContext, caller: Caller, request: Request,
          to_state: S, *, reason: str = "", action: str) -> None:
    from_state = request.status
    request.status = transition(from_state, to_state)
    request.updated_at = ctx.now()
    audit.record(session, ctx, caller, action=action, object_type="request",
                 object_id=request.id, project=request.id,
                 detail={"from": from_state, "to": str(to_state), "reason": reason})


def submit_request(session: Session, ctx: HubContext, caller: Caller, *,
                   request_id: str) -> Request:
    request = _owned(session, caller, request_id)
    if request.status == S.CHANGES_REQUESTED and request.needs_edit:
        raise ConflictError("governance asked for changes: edit the request before "
                            "resubmitting it", code="edit_required")
    transition(request.status, S.SUBMITTED)
    refuse_return_disposition(load_dsa(request))  # a draft stored before the option went
    check_policy(ctx.settings, load_dsa(request).outputs)  # the hub may have raised a floor
    check_against_catalog(session, load_dsa(request))
    # The agenda may have retired an item since the draft named it (docs/governance-policy.md).
    policy.check_agreement(session, ctx, requester_id=request.researcher_id,
                           dsa=load_dsa(request))
    _pin_extract_k(request, ctx.settings.disclosure_k)
    now = ctx.now()
    request.round += 1
    request.submitted_at = now
    request.first_submitted_at = request.first_submitted_at or now
    move(session, ctx, caller, request, S.SUBMITTED, action="request.submitted")
    session.commit()
    return request


def _pin_extract_k(request: Request, default_k: int) -> None:
    """Write the hub's default k into an agreement that names none, so the k the stewards
    sign (the terms' ``extract``) is the k the extract is built with, whatever the hub's
    ``disclosure_k`` becomes later."""
    extract = dict((request.dsa or {}).get("extract") or {})
    if extract.get("k_anonymity") is None:
        request.dsa = {**request.dsa, "extract": {**extract, "k_anonymity": default_k}}


def withdraw_request(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
                     reason: str = "") -> Request:
    request = _owned(session, caller, request_id)
    move(session, ctx, caller, request, S.WITHDRAWN, reason=reason, action="request.withdrawn")
    request.decided_at = ctx.now()
    session.commit()
    return request


def revoke_request(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
                   reason: str) -> Request:
    request = visible_request(session, caller, request_id=request_id, lock=True)
    if not reason.strip():
        raise InvalidInputError("a revocation needs a reason")
    move(session, ctx, caller, request, S.REVOKED, reason=reason, action="request.revoked")
    request.decision_reason = reason
    session.commit()
    # Revocation destroys the project's extracts at once (key and file, docs/extracts.md).
    from hub.services.extract_destruction import destroy_project_extracts

    destroy_project_extracts(ctx, caller, project_id=request.id, reason="revoked")
    return request


def get_request(session: Session, ctx: HubContext, caller: Caller, *,
                request_id: str) -> Request:
    """Read one request; the read itself is an audited data access."""
    request = visible_request(session, caller, request_id=request_id)
    audit.record(session, ctx, caller, action="request.viewed", object_type="request",
                 object_id=request.id, project=request.id)
    session.commit()
    return request


def list_requests(session: Session, ctx: HubContext, caller: Caller, *,
                  status: str | None = None) -> list[Request]:
    principal = caller.principal
    assert principal is not None
    statuses = [status] if status else None
    if principal.role == Role.RESEARCHER:
        rows = store.list_requests(session, researcher_id=principal.id, statuses=statuses)
    elif principal.role == Role.STEWARD:
        rows = store.list_requests(session, agency_code=principal.agency, statuses=statuses,
                                   exclude_statuses=[S.DRAFT])
    else:
        rows = store.list_requests(session, statuses=statuses, exclude_statuses=[S.DRAFT])
    # Not audited: the listing shows ids, titles and statuses the caller may see anyway;
    # opening one request's full agreement is (get_request; docs/hub.md, "Which reads
    # are audited"). A read that appends takes the write lock on every call (issue 20).
    return rows


def expire_due(session: Session, ctx: HubContext, caller: Caller) -> list[str]:
    """Move every approved, linking or ready project whose term has ended to ``expired``
    (one transaction, one audit event each); returns their ids. Run daily
    (``fedlink hub expire``); destroying extracts at expiry belongs to the extract service."""
    today = ctx.now().date()
    expired = []
    for request in store.list_requests(session, statuses=[S.APPROVED, S.LINKING, S.READY,
                                                          S.AMENDING]):
        if request.approved_term_end is not None and request.approved_term_end < today:
            if request.status == S.AMENDING:
                # The term in force ended under review: the proposal lapses (docs/amendments.md).
                from hub.services.amendments import lapse

                lapse(session, ctx, caller, request)
            move(session, ctx, caller, request, S.EXPIRED, reason="term ended",
                 action="request.expired")
            expired.append(request.id)
    session.commit()
    return expired
