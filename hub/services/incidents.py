"""Incident response (docs/incident-response.md): the incident record, its timeline, the
node logs the agencies hand in, the access report, notifications and closure.

Containment lives in :mod:`hub.services.incident_containment`. Only governance opens,
contains, notifies and closes; auditors read; a steward hands in its own node's log. Every
change is an ``incident.*`` audit event with ``object_type="incident"``, and those events
are the incident's timeline (:func:`timeline`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Incident
from hub.domain.roles import Caller, Role
from hub.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from hub.persistence import audit as audit_store
from hub.persistence import incidents as store
from hub.persistence import requests as request_store
from hub.services import audit
from hub.services.audit_log import event_view, with_actor_names
from hub.services.context import HubContext
from hub.services.notify import Attempt, Notifier
from hub.services.terms import load_dsa

SEVERITY_ORDER = ("low", "medium", "high", "critical")
#: Hub audit actions that are a look at or a copy of the project's data or results.
DOWNLOADS = frozenset({"extract.downloaded"})
VIEWS = frozenset({"request.viewed", "request.version_viewed", "extract.viewed",
                   "extract.listed", "output.viewed", "output.listed",
                   "linkage_run.report_viewed", "findings.listed"})
_AUDIT_PAGE = 1000


@dataclass(frozen=True)
class NewIncident:
    """What governance records when an incident is found."""

    title: str
    description: str
    found_at: dt.datetime
    severity: str
    project_id: str | None = None
    data_involved: list[dict[str, Any]] = field(default_factory=list)
    notifiable: bool = False
    public_summary: str = ""


def incident_fields(incident: Incident) -> dict[str, Any]:
    return {"object_type": "incident", "object_id": incident.id,
            "project": incident.project_id or ""}


def require_role(caller: Caller, *roles: str) -> None:
    principal = caller.principal
    if principal is None or principal.kind != "user" or principal.role not in roles:
        raise PermissionDeniedError("incidents are for governance", code="wrong_role")


def get_incident(session: Session, caller: Caller, *, incident_id: str,
                 lock: bool = False) -> Incident:
    """The incident, for governance and auditors (404 otherwise unknown)."""
    require_role(caller, Role.GOVERNANCE, Role.AUDITOR)
    incident = store.get_incident(session, incident_id=incident_id, lock=lock)
    if incident is None:
        raise NotFoundError(f"incident {incident_id} does not exist")
    return incident


def list_incidents(session: Session, caller: Caller) -> list[Incident]:
    require_role(caller, Role.GOVERNANCE, Role.AUDITOR)
    return store.list_incidents(session)


def open_incident(session: Session, ctx: HubContext, caller: Caller,
                  new: NewIncident) -> Incident:
    """Record an incident (status ``open``); the first event of its timeline."""
    require_role(caller, Role.GOVERNANCE)
    if new.severity not in SEVERITY_ORDER:
        raise InvalidInputError(f"severity must be one of {', '.join(SEVERITY_ORDER)}")
    if new.found_at > ctx.now():
        raise InvalidInputError("found_at is in the future")
    if new.project_id is not None and request_store.get_request(
            session, request_id=new.project_id) is None:
        raise NotFoundError(f"request {new.project_id} does not exist")
    assert caller.principal is not None and caller.principal.id is not None
    incident = store.create_incident(session, values={
        "id": f"inc-{secrets.token_hex(6)}", "title": new.title,
        "description": new.description, "found_at": new.found_at, "severity": new.severity,
        "status": "open", "project_id": new.project_id, "data_involved": new.data_involved,
        "notifiable": new.notifiable, "public_summary": new.public_summary,
        "reported_by": caller.principal.id, "created_at": ctx.now(), "resolution": ""})
    audit.record(session, ctx, caller, action="incident.opened", **incident_fields(incident),
                 detail={"severity": new.severity, "found_at": new.found_at.isoformat(),
                         "notifiable": new.notifiable})
    session.commit()
    return incident


def close_incident(session: Session, ctx: HubContext, caller: Caller, *, incident_id: str,
                   resolution: str) -> Incident:
    """Close a contained (or never containable: no project) incident with its resolution."""
    require_role(caller, Role.GOVERNANCE)
    incident = get_incident(session, caller, incident_id=incident_id, lock=True)
    if incident.status == "closed":
        raise ConflictError("the incident is already closed", code="incident_closed")
    if incident.status == "open" and incident.project_id is not None:
        raise ConflictError("contain the incident before closing it", code="not_contained")
    if not resolution.strip():
        raise InvalidInputError("closing an incident needs a resolution")
    incident.status, incident.closed_at, incident.resolution = "closed", ctx.now(), resolution
    audit.record(session, ctx, caller, action="incident.closed", **incident_fields(incident))
    session.commit()
    return incident


def timeline(session: Session, *, incident: Incident) -> list[dict[str, Any]]:
    """The incident's ``incident.*`` events from the hash-chained audit log, in order."""
    events: list[Any] = []
    after = 0
    while True:
        page, _ = audit_store.search_events(session, project=incident.project_id or None,
                                            after_seq=after, limit=_AUDIT_PAGE)
        events += [e for e in page if e.object_type == "incident" and e.object_id == incident.id]
        if len(page) < _AUDIT_PAGE:
            return with_actor_names(session, [event_view(e) for e in events])
        after = page[-1].seq


# --- node logs and the access report -------------------------------------------------


def add_node_log(session: Session, ctx: HubContext, caller: Caller, *, incident_id: str,
                 agency: str, events: list[dict[str, Any]]) -> int:
    """Keep a node's audit events about the incident's project, handed in by that agency's
    steward (or governance); how many were new. Events of another project are refused."""
    principal = caller.principal
    if principal is None or principal.kind != "user" or not (
            principal.role == Role.GOVERNANCE
            or (principal.role == Role.STEWARD and principal.agency == agency)):
        raise PermissionDeniedError("a node's log is handed in by its agency's steward or "
                                    "governance", code="wrong_role")
    incident = store.get_incident(session, incident_id=incident_id, lock=True)
    if incident is None:
        raise NotFoundError(f"incident {incident_id} does not exist")
    if incident.project_id is None:
        raise ConflictError("the incident names no project", code="no_project")
    request = request_store.get_request(session, request_id=incident.project_id)
    assert request is not None
    if agency not in load_dsa(request).agencies:
        raise InvalidInputError(f"agency {agency} is not a party to {incident.project_id}")
    if any(e["project_id"] != incident.project_id for e in events):
        raise InvalidInputError(f"every event must be about project {incident.project_id}")
    added = store.add_node_events(session, incident_id=incident.id, agency=agency,
                                  rows=events, now=ctx.now())
    audit.record(session, ctx, caller, action="incident.node_log_added", agency=agency,
                 **incident_fields(incident), detail={"events": len(events), "new": added})
    session.commit()
    return added


def _kind(action: str) -> str:
    if action in DOWNLOADS:
        return "download"
    if action in VIEWS:
        return "view"
    return "change"


def access_report(session: Session, ctx: HubContext, caller: Caller, *,
                  incident_id: str) -> dict[str, Any]:
    """Who saw or downloaded what: every hub audit event about the incident's project (named,
    classed ``download``, ``view`` or ``change``; incident events themselves left out) and
    every node event handed in, then a count per actor. Reading it is audited."""
    incident = get_incident(session, caller, incident_id=incident_id)
    if incident.project_id is None:
        raise ConflictError("the incident names no project", code="no_project")
    hub_events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = store.project_events(session, project_id=incident.project_id,
                                    after_seq=after, limit=_AUDIT_PAGE)
        hub_events += [{**event_view(e), "kind": _kind(e.action)} for e in page
                       if e.object_type != "incident"]
        if len(page) < _AUDIT_PAGE:
            break
        after = page[-1].seq
    nodes = [{"agency": e.agency, "seq": e.seq, "at": e.at, "actor": e.actor, "typ": e.typ,
              "outcome": e.outcome, "reason": e.reason}
             for e in store.node_events(session, incident_id=incident.id)]
    actors: dict[str, dict[str, int]] = {}
    for event in hub_events:
        counts = actors.setdefault(event["actor"], {"download": 0, "view": 0, "change": 0})
        counts[event["kind"]] += 1
    audit.record(session, ctx, caller, action="incident.access_report", **incident_fields(incident),
                 detail={"hub_events": len(hub_events), "node_events": len(nodes)})
    session.commit()
    return {"incident_id": incident.id, "project_id": incident.project_id,
            "hub_events": with_actor_names(session, hub_events),
            "node_events": nodes,
            "agencies_reported": sorted({e["agency"] for e in nodes}),
            "by_actor": [{"actor": a, **c} for a, c in sorted(actors.items())]}


# --- notifications -------------------------------------------------------------------


def _message(incident: Incident) -> tuple[str, str]:
    subject = f"[{incident.severity}] Data incident {incident.id}: {incident.title}"
    involved = "; ".join(f"{d.get('agency')}: {', '.join(d.get('variables', []))}"
                         for d in incident.data_involved) or "not stated"
    body = (f"Incident {incident.id} ({incident.severity}, {incident.status})\n"
            f"Found: {incident.found_at.isoformat()}\n"
            f"Project: {incident.project_id or 'none'}\nData involved: {involved}\n\n"
            f"{incident.description}\n")
    if incident.containment:
        done = incident.containment
        body += (f"\nContained {incident.contained_at}: {len(done.get('tokens_revoked', []))} "
                 f"tokens revoked, {len(done.get('sessions_ended', []))} sessions ended, "
                 f"{len(done.get('users_suspended', []))} users suspended, "
                 f"{len(done.get('extracts_destroyed', []))} extracts destroyed; nodes told: "
                 f"{', '.join(done.get('nodes_told', [])) or 'none'}\n")
    return subject, body


def notify(session: Session, ctx: HubContext, caller: Caller, *, incident_id: str,
           notifier: Notifier) -> list[Attempt]:
    """E-mail the stewards of the project's agencies and every governance member, and call
    the webhook; each attempt is stored and audited, failures included."""
    require_role(caller, Role.GOVERNANCE)
    incident = get_incident(session, caller, incident_id=incident_id)
    agencies: list[str] = []
    if incident.project_id is not None:
        request = request_store.get_request(session, request_id=incident.project_id)
        assert request is not None
        agencies = list(load_dsa(request).agencies)
    agencies = sorted(set(agencies) | {str(d.get("agency")) for d in incident.data_involved})
    people = store.steward_and_governance_users(session, agencies=agencies)
    recipients = sorted({u.email for u in people if u.email})
    subject, body = _message(incident)
    session.commit()  # no lock held while the mail server and the webhook answer
    attempts = notifier.email(recipients, subject=subject, body=body)
    attempts += notifier.webhook({"incident": incident_view(incident), "agencies": agencies})
    for attempt in attempts:
        store.add_notification(session, incident_id=incident.id, channel=attempt.channel,
                               target=attempt.target, now=ctx.now(),
                               outcome="sent" if attempt.sent else "failed",
                               error=attempt.error)
    audit.record(session, ctx, caller, action="incident.notified", **incident_fields(incident),
                 detail={"sent": sum(a.sent for a in attempts),
                         "failed": sum(not a.sent for a in attempts)})
    session.commit()
    return attempts


# --- views and the public statement ---------------------------------------------------


def incident_view(incident: Incident) -> dict[str, Any]:
    def when(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"id": incident.id, "title": incident.title, "description": incident.description,
            "found_at": incident.found_at.isoformat(), "severity": incident.severity,
            "status": incident.status, "project_id": incident.project_id,
            "data_involved": incident.data_involved, "notifiable": incident.notifiable,
            "public_summary": incident.public_summary,
            "created_at": incident.created_at.isoformat(),
            "contained_at": when(incident.contained_at), "containment": incident.containment,
            "closed_at": when(incident.closed_at), "resolution": incident.resolution}


def is_public(incident: Incident, minimum: str) -> bool:
    """Policy: notifiable, contained or closed, and at least ``minimum`` severe."""
    return (minimum != "none" and incident.notifiable and incident.status != "open"
            and SEVERITY_ORDER.index(incident.severity) >= SEVERITY_ORDER.index(minimum))


def public_incidents(session: Session, ctx: HubContext) -> list[dict[str, Any]]:
    """What the public page states: date found, severity, status and the public summary."""
    minimum = ctx.settings.incident_public_min_severity
    return [{"id": i.id, "found_at": i.found_at.date().isoformat(), "severity": i.severity,
             "status": i.status, "summary": i.public_summary or i.title,
             "contained_at": i.contained_at.date().isoformat() if i.contained_at else None}
            for i in store.list_incidents(session, notifiable=True)
            if is_public(i, minimum)]
