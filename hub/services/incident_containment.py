"""One-step containment of an incident's project (docs/incident-response.md, "Containment").

In one call, governance:

1. revokes the project — with a member's signed revocation (``fedlink incident contain
   --key-file``) the hub records it and pushes it to every node of the project, which then
   refuses the project whatever the hub asks (:func:`hub.services.governance.
   signed_revocation`); without one (no roster yet) the hub alone revokes it;
2. destroys every extract of the project (key and file) and purges its linkage data;
3. revokes every API token and ends every web session of the project's personnel
   accounts (the requester and every researcher the agreement names, in force or
   proposed), and suspends those accounts (``suspend_users``);
4. records what was done on the incident and in the audit log (``incident.contained``).

Repeating it is safe: what is already revoked stays revoked, nodes that missed the push
get it again.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from hub.db.models import Incident
from hub.domain.lifecycle import RequestStatus as S
from hub.domain.roles import Caller, Role
from hub.errors import ConflictError, DecisionRefusedError
from hub.persistence import extracts as extract_store
from hub.persistence import governance as governance_store
from hub.persistence import incidents as store
from hub.persistence import requests as request_store
from hub.services import audit, governance
from hub.services.context import HubContext
from hub.services.extract_destruction import LIVE, destroy_project_extracts
from hub.services.incidents import get_incident, incident_fields, require_role
from hub.services.requests import revoke_request
from hub.services.terms import in_force_dsa, load_dsa


def _revoke(session: Session, ctx: HubContext, caller: Caller, incident: Incident, *,
            revocation: bytes | None, client: httpx.Client) -> tuple[str, list[str]]:
    """Revoke the project (signed when a revocation is given); how, and the nodes told."""
    project_id = incident.project_id
    assert project_id is not None
    if revocation is not None:
        result = governance.signed_revocation(session, ctx, caller, request_id=project_id,
                                              body=revocation, client=client)
        return "signed", list(result["pushed_to"])
    if governance_store.get_revocation(session, request_id=project_id) is not None:
        # Signed earlier: push again to the nodes that have not taken it yet.
        return "signed", governance.push_revocation(session, ctx, request_id=project_id,
                                                    client=client)
    if governance.requires_signature(session):
        raise DecisionRefusedError(
            "nodes accept only a revocation signed by a roster member: give one "
            "(`fedlink incident contain --key-file`)", code="signed_revocation_required",
            status=422)
    request = request_store.get_request(session, request_id=project_id)
    assert request is not None
    if request.status != S.REVOKED:
        try:
            revoke_request(session, ctx, caller, request_id=project_id,
                           reason=f"incident {incident.id}: {incident.title}")
        except ConflictError:
            session.rollback()  # a draft, withdrawn or expired project: nothing to revoke
            return "not_revocable", []
    return "hub_only", []


def _personnel_ids(session: Session, project_id: str) -> list[int]:
    request = request_store.get_request(session, request_id=project_id)
    assert request is not None
    emails = {p.email for dsa in (in_force_dsa(request), load_dsa(request))
              for p in dsa.personnel if p.email}
    users = store.personnel_users(session, user_ids=[request.researcher_id], emails=emails)
    return [u.id for u in users]


def _lock_out(session: Session, ctx: HubContext, caller: Caller, incident: Incident, *,
              suspend_users: bool) -> dict[str, list[int]]:
    """Revoke the personnel's tokens, end their sessions, suspend their accounts."""
    assert incident.project_id is not None
    users = _personnel_ids(session, incident.project_id)
    now = ctx.now()
    tokens = store.live_tokens(session, user_ids=users)
    for token in tokens:
        token.revoked_at = now
        audit.record(session, ctx, caller, action="token.revoked", object_type="token",
                     object_id=str(token.id), project=incident.project_id,
                     detail={"incident": incident.id, "user": token.user_id})
    sessions = store.open_sessions(session, user_ids=users)
    for row in sessions:
        row.ended_at = now
        audit.record(session, ctx, caller, action="session.ended", object_type="session",
                     object_id=str(row.id), project=incident.project_id,
                     detail={"incident": incident.id, "user": row.user_id})
    suspended = []
    if suspend_users:
        for user in store.personnel_users(session, user_ids=users, emails=()):
            if user.active:
                user.active = False
                suspended.append(user.id)
                audit.record(session, ctx, caller, action="user.suspended", object_type="user",
                             object_id=str(user.id), project=incident.project_id,
                             detail={"incident": incident.id})
    session.commit()
    return {"personnel": users, "tokens_revoked": [t.id for t in tokens],
            "sessions_ended": [s.id for s in sessions], "users_suspended": suspended}


def _live_extracts(session: Session, project_id: str) -> list[str]:
    return [e.id for e in extract_store.list_extracts(session, project_ids=[project_id],
                                                      statuses=LIVE)]


def contain(session: Session, ctx: HubContext, caller: Caller, *, incident_id: str,
            client: httpx.Client, revocation: bytes | None = None,
            suspend_users: bool = True) -> Incident:
    """Contain the incident's project in one step; the incident, ``contained``, with what
    was done in ``containment``."""
    require_role(caller, Role.GOVERNANCE)
    incident = get_incident(session, caller, incident_id=incident_id)
    if incident.project_id is None:
        raise ConflictError("the incident names no project to contain", code="no_project")
    if incident.status == "closed":
        raise ConflictError("the incident is closed", code="incident_closed")
    project_id = incident.project_id
    before = _live_extracts(session, project_id)
    session.commit()  # the revocation path commits and calls the nodes itself
    how, told = _revoke(session, ctx, caller, incident, revocation=revocation, client=client)
    session.commit()  # end the read: destruction writes in sessions of its own
    destroy_project_extracts(ctx, caller, project_id=project_id, reason="revoked")
    locked = _lock_out(session, ctx, caller, incident, suspend_users=suspend_users)
    request = request_store.get_request(session, request_id=project_id)
    assert request is not None
    agencies = sorted(load_dsa(request).agencies)
    live = _live_extracts(session, project_id)
    destroyed = [e for e in before if e not in live]
    done: dict[str, Any] = {
        "revocation": how, "project_status": request.status, "nodes_told": sorted(told),
        "nodes_not_told": [a for a in agencies if a not in told],
        "extracts_destroyed": destroyed, "extracts_live": live, **locked}
    incident = get_incident(session, caller, incident_id=incident_id, lock=True)
    previous = incident.containment or {}
    for key in ("tokens_revoked", "sessions_ended", "users_suspended", "extracts_destroyed"):
        done[key] = sorted(set(previous.get(key, [])) | set(done[key]))
    incident.containment = done
    if incident.status == "open":
        incident.status, incident.contained_at = "contained", ctx.now()
    audit.record(session, ctx, caller, action="incident.contained", **incident_fields(incident),
                 detail={k: v for k, v in done.items() if k != "personnel"})
    session.commit()
    return incident
