"""Who may not review a request: the conflict-of-interest rule (docs/hub.md).

A researcher must not be able to choose their reviewers, so the personnel list alone never
excludes anyone. A governance member is conflicted on a request when

1. they are the requester, or hold an account with the requester's email (the same person
   twice); or
2. they have declared themselves conflicted on it (recusal); or
3. the personnel list names their email and they have *not* declared otherwise: they are
   held back until they confirm, by a declaration every other reviewer sees
   (``GET /v1/requests/{id}/conflicts``), whether they are on the team.

A declaration is the member's own (their token), audited, and may be changed while the
request is under review; the requester's identity (1) cannot be declared away.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.roles import Caller, Principal
from hub.errors import InvalidInputError, PermissionDeniedError
from hub.persistence import accounts as store
from hub.persistence import identity as identity_store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.requests import visible_request
from hub.services.terms import load_dsa


def _is_requester(session: Session, principal: Principal, request: Request) -> bool:
    if principal.id == request.researcher_id:
        return True
    requester = identity_store.get_user(session, user_id=request.researcher_id)
    return bool(principal.email and requester is not None and requester.email
                and principal.email.lower() == requester.email.lower())


def _listed(principal: Principal, request: Request) -> bool:
    emails = {p.email.lower() for p in load_dsa(request).personnel if p.email}
    return bool(principal.email) and str(principal.email).lower() in emails


def is_conflicted(session: Session, principal: Principal, request: Request) -> bool:
    """The rule above, for one reviewer and one request."""
    if _is_requester(session, principal, request):
        return True
    assert principal.id is not None
    declared = store.get_declaration(session, request_id=request.id, user_id=principal.id)
    if declared is not None:
        return bool(declared.conflicted)
    return _listed(principal, request)


def declare(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
            conflicted: bool, reason: str) -> dict[str, Any]:
    """A governance member's own declaration on a request (recusal, or confirming that the
    personnel entry naming them is not them / not a conflict)."""
    request = visible_request(session, caller, request_id=request_id, lock=True)
    principal = caller.principal
    assert principal is not None and principal.id is not None
    fields: dict[str, Any] = {"object_type": "request", "object_id": request.id,
                              "project": request.id}
    if not conflicted and _is_requester(session, principal, request):
        audit.refuse(session, ctx, caller, PermissionDeniedError(
            "the requester cannot declare themselves free of conflict",
            code="conflict_of_interest"), action="request.conflict_refused", **fields)
    if not conflicted and not reason.strip():
        raise InvalidInputError("say why you are not conflicted (a reason is required)")
    row = store.set_declaration(session, request_id=request.id, user_id=principal.id,
                                conflicted=conflicted, reason=reason.strip())
    audit.record(session, ctx, caller, action="request.conflict_declared", **fields,
                 detail={"conflicted": conflicted, "personnel_listed":
                         _listed(principal, request)})
    session.commit()
    return declaration_view(row, listed=_listed(principal, request))


def declaration_view(row: Any, *, listed: bool) -> dict[str, Any]:
    return {"user_id": row.user_id, "conflicted": row.conflicted, "reason": row.reason,
            "personnel_listed": listed, "declared_at": row.created_at.isoformat()}


def conflicts_view(session: Session, caller: Caller, *, request_id: str) -> dict[str, Any]:
    """What governance sees: each member's declaration, and the governance members the
    personnel list names (held back until they declare)."""
    from hub.domain.roles import Role

    request = visible_request(session, caller, request_id=request_id)
    emails = {p.email.lower() for p in load_dsa(request).personnel if p.email}
    members = [u for u in identity_store.list_users(session)
               if u.role == Role.GOVERNANCE and u.email and u.email.lower() in emails]
    declared = {d.user_id: d for d in store.declarations(session, request_id=request.id)}
    return {
        "request_id": request.id,
        "declarations": [declaration_view(d, listed=d.user_id in {m.id for m in members})
                         for d in declared.values()],
        "personnel_names_members": [
            {"user_id": m.id, "name": m.name,
             "declared": None if m.id not in declared else declared[m.id].conflicted}
            for m in members],
    }
