"""Incident response: record, one-step containment, node logs, access report,
notifications, closure, and the public statement (hub.services.incidents,
hub.services.incident_containment; docs/incident-response.md)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from hub.api.deps import ContextDep, GovernanceCaller, NodeClientDep, SessionDep, require
from hub.api.responses import PUBLIC, SIGNED_PUSHED, USER, USER_CHANGE, USER_OBJECT
from hub.api.schemas_incidents import (
    AccessReport,
    CloseBody,
    ContainBody,
    IncidentCreate,
    IncidentDetail,
    IncidentView,
    NodeLogAdded,
    NodeLogBody,
    NotifyResult,
    PublicIncident,
)
from hub.api.schemas_views import returns
from hub.domain.roles import Caller, Role
from hub.persistence import incidents as incident_store
from hub.services import incidents
from hub.services.incident_containment import contain as contain_incident
from hub.services.notify import Notifier

router = APIRouter(tags=["incidents"])

IncidentId = Annotated[str, Path(max_length=40, description="The incident's id")]
ReaderCaller = Annotated[Caller, Depends(require(Role.GOVERNANCE, Role.AUDITOR))]
NodeLogCaller = Annotated[Caller, Depends(require(Role.GOVERNANCE, Role.STEWARD))]
_TIMELINE = ("seq", "ts", "actor", "actor_name", "actor_role", "action", "outcome", "detail")
_HUB_ACCESS = ("seq", "ts", "actor", "actor_name", "actor_role", "action", "kind",
               "object_type", "object_id", "agency", "outcome")


def notifier(request: Request, ctx: ContextDep) -> Notifier:
    """The configured SMTP server and webhook; tests put an httpx transport for the webhook
    in ``app.state.notify_transport``."""
    return Notifier.from_settings(ctx.settings,
                                  getattr(request.app.state, "notify_transport", None))


NotifierDep = Annotated[Notifier, Depends(notifier)]


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: row[name] for name in names}


@router.post("/v1/incidents", responses=USER_OBJECT, status_code=201,
             **returns(IncidentView), summary="Record an incident [governance]")
def create(body: IncidentCreate, caller: GovernanceCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Record a suspected or confirmed breach: what, when found, the project and data
    involved, severity, whether policy makes it notifiable. Status `open`; the first event of
    its timeline. 404 when the project does not exist."""
    incident = incidents.open_incident(session, ctx, caller, incidents.NewIncident(
        title=body.title, description=body.description, found_at=body.found_at,
        severity=body.severity, project_id=body.project_id,
        data_involved=[d.model_dump() for d in body.data_involved],
        notifiable=body.notifiable, public_summary=body.public_summary))
    return incidents.incident_view(incident)


@router.get("/v1/incidents", responses=USER, **returns(list[IncidentView]),
            summary="Every incident, newest first [governance, auditor]")
def list_all(caller: ReaderCaller, session: SessionDep) -> list[dict[str, Any]]:
    """Every incident record, newest found first."""
    return [incidents.incident_view(i) for i in incidents.list_incidents(session, caller)]


@router.get("/v1/incidents/{incident_id}", responses=USER_OBJECT, **returns(IncidentDetail),
            summary="One incident with its timeline and notifications [governance, auditor]")
def detail(incident_id: IncidentId, caller: ReaderCaller,
           session: SessionDep) -> dict[str, Any]:
    """The incident, its timeline (its `incident.*` events of the hub's audit chain) and
    every notification attempt, failures included."""
    incident = incidents.get_incident(session, caller, incident_id=incident_id)
    return {**incidents.incident_view(incident),
            "timeline": [_pick(e, _TIMELINE)
                         for e in incidents.timeline(session, incident=incident)],
            "notifications": [
                {"channel": n.channel, "target": n.target, "outcome": n.outcome,
                 "error": n.error, "sent_at": n.sent_at.isoformat()}
                for n in incident_store.notifications(session, incident_id=incident.id)]}


@router.post("/v1/incidents/{incident_id}/contain", responses=SIGNED_PUSHED,
             **returns(IncidentView),
             summary="Contain the incident's project in one step [governance]")
def contain(incident_id: IncidentId, body: ContainBody, caller: GovernanceCaller,
            session: SessionDep, ctx: ContextDep, client: NodeClientDep) -> dict[str, Any]:
    """Revoke the project (a member's signed revocation, pushed to every node of the
    project, is required once a roster exists: 422 `signed_revocation_required`), destroy
    its extracts, revoke every token and end every web session of its personnel and suspend
    their accounts; the incident becomes `contained` with what was done. Safe to repeat.
    409 `no_project`, `incident_closed`."""
    revocation = None if body.revocation is None else json.dumps(body.revocation).encode()
    incident = contain_incident(session, ctx, caller, incident_id=incident_id, client=client,
                                revocation=revocation, suspend_users=body.suspend_users)
    return incidents.incident_view(incident)


@router.post("/v1/incidents/{incident_id}/node-logs", responses=USER_CHANGE,
             **returns(NodeLogAdded),
             summary="Hand in a node's audit events about the project [steward of the "
             "agency, governance]")
def node_log(incident_id: IncidentId, body: NodeLogBody, caller: NodeLogCaller,
             session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """The events of the agency node's audit log about the incident's project (`fedlink
    incident node-log` reads them from the node); they join the access report. 422 for
    events of another project or an agency not party to it; 409 `no_project`."""
    added = incidents.add_node_log(session, ctx, caller, incident_id=incident_id,
                                   agency=body.agency,
                                   events=[e.model_dump() for e in body.events])
    return {"added": added}


@router.get("/v1/incidents/{incident_id}/access-report", responses=USER_CHANGE,
            **returns(AccessReport),
            summary="Who saw or downloaded what [governance, auditor]")
def access_report(incident_id: IncidentId, caller: ReaderCaller, session: SessionDep,
                  ctx: ContextDep) -> dict[str, Any]:
    """Every event of the hub's audit log about the project (downloads, looks, changes,
    refusals included) with the actors' names, every node event handed in, and counts per
    actor. Reading it is audited. 409 `no_project`."""
    report = incidents.access_report(session, ctx, caller, incident_id=incident_id)
    return {**report, "hub_events": [_pick(e, _HUB_ACCESS) for e in report["hub_events"]]}


@router.post("/v1/incidents/{incident_id}/notify", responses=USER_OBJECT,
             **returns(NotifyResult),
             summary="E-mail the stewards and governance and call the webhook [governance]")
def notify(incident_id: IncidentId, caller: GovernanceCaller, session: SessionDep,
           ctx: ContextDep, sender: NotifierDep) -> dict[str, Any]:
    """E-mail (the hub's SMTP server) the stewards of the project's agencies and every
    governance member, and POST the incident to the configured webhook. Each attempt is
    kept, failures included; a failure never fails the call."""
    attempts = incidents.notify(session, ctx, caller, incident_id=incident_id,
                                notifier=sender)
    return {"attempts": [{"channel": a.channel, "target": a.target,
                          "outcome": "sent" if a.sent else "failed", "error": a.error}
                         for a in attempts]}


@router.post("/v1/incidents/{incident_id}/close", responses=USER_CHANGE,
             **returns(IncidentView), summary="Close an incident [governance]")
def close(incident_id: IncidentId, body: CloseBody, caller: GovernanceCaller,
          session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Close a contained incident with its resolution. 409 `not_contained`,
    `incident_closed`."""
    incident = incidents.close_incident(session, ctx, caller, incident_id=incident_id,
                                        resolution=body.resolution)
    return incidents.incident_view(incident)


@router.get("/v1/public/incidents", responses=PUBLIC, **returns(list[PublicIncident]),
            summary="Notifiable incidents, as policy states them [public]")
def public(session: SessionDep, ctx: ContextDep) -> list[dict[str, Any]]:
    """Notifiable incidents at least as severe as the hub's `incident_public_min_severity`,
    once contained: the day found, severity, status and public summary (no names, no
    records)."""
    return incidents.public_incidents(session, ctx)
