"""Incident response pages (docs/incident-response.md): governance records an incident,
contains its project, notifies, reads the access report and closes it; auditors read;
the public page ``/public/incidents`` states notifiable incidents as policy says.

Every action is the API's service (:mod:`hub.services.incidents`,
:mod:`hub.services.incident_containment`) — same rules, same audit events. A browser holds
no governance key, so once a roster exists containment with a signed revocation is
``fedlink incident contain --key-file``; the page says so when the hub refuses.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.api.deps import ContextDep, NodeClientDep, SessionDep
from hub.domain.roles import Role
from hub.errors import HubError, InvalidInputError, NotFoundError
from hub.persistence import incidents as store
from hub.services import incidents
from hub.services.incident_containment import contain as contain_incident
from hub.services.notify import Notifier
from hub.services.web_sessions import SignedIn
from hub.web.deps import CsrfChecked, GovernancePage, MaybeSignedIn, page_for
from hub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Id = Annotated[str, Path(max_length=40)]
IncidentPage = Annotated[SignedIn, Depends(page_for(Role.GOVERNANCE, Role.AUDITOR))]
_DONE = {"opened": "The incident is recorded.", "contained": "The project is contained.",
         "notified": "Notifications were sent (see below for any that failed).",
         "closed": "The incident is closed."}


def _detail(request: Request, me: SignedIn, session: SessionDep, ctx: ContextDep,
            incident_id: str, *, status: int = 200, error: str = "", done: str = "",
            report: dict[str, Any] | None = None) -> HTMLResponse:
    incident = incidents.get_incident(session, me.caller, incident_id=incident_id)
    return render(request, "incidents.html", status=status, error=error,
                  done=_DONE.get(done, ""), incident=incidents.incident_view(incident),
                  timeline=incidents.timeline(session, incident=incident),
                  notifications=store.notifications(session, incident_id=incident.id),
                  report=report, is_governance=me.role == Role.GOVERNANCE)


@router.get("/incidents")
def index(request: Request, me: IncidentPage, session: SessionDep) -> HTMLResponse:
    rows = [incidents.incident_view(i) for i in incidents.list_incidents(session, me.caller)]
    return render(request, "incidents.html", incidents=rows, incident=None,
                  is_governance=me.role == Role.GOVERNANCE, error="", done="")


@router.post("/incidents")
def create(request: Request, me: GovernancePage, _csrf: CsrfChecked, session: SessionDep,
           ctx: ContextDep, title: Annotated[str, Form(max_length=300)] = "",
           description: Annotated[str, Form(max_length=20_000)] = "",
           severity: Annotated[str, Form(max_length=16)] = "",
           project_id: Annotated[str, Form(max_length=32)] = "",
           notifiable: Annotated[str, Form(max_length=8)] = "",
           public_summary: Annotated[str, Form(max_length=2000)] = "") -> Response:
    try:
        if not title.strip() or not description.strip():
            raise InvalidInputError("give the incident a title and a description")
        incident = incidents.open_incident(session, ctx, me.caller, incidents.NewIncident(
            title=title.strip(), description=description.strip(), found_at=ctx.now(),
            severity=severity, project_id=project_id.strip() or None,
            notifiable=bool(notifiable), public_summary=public_summary.strip()))
    except HubError as exc:
        session.rollback()
        rows = [incidents.incident_view(i) for i in incidents.list_incidents(session, me.caller)]
        return render(request, "incidents.html", status=exc.status, incidents=rows,
                      incident=None, is_governance=True, done="",
                      error=f"{str(exc)[0].upper()}{str(exc)[1:]}.")
    return RedirectResponse(f"/incidents/{quote(incident.id)}?done=opened", status_code=303)


@router.get("/incidents/{incident_id}")
def detail(request: Request, incident_id: Id, me: IncidentPage, session: SessionDep,
           ctx: ContextDep, done: str = "") -> HTMLResponse:
    return _detail(request, me, session, ctx, incident_id, done=done)


@router.get("/incidents/{incident_id}/access-report")
def access_report(request: Request, incident_id: Id, me: IncidentPage, session: SessionDep,
                  ctx: ContextDep) -> HTMLResponse:
    report = incidents.access_report(session, ctx, me.caller, incident_id=incident_id)
    return _detail(request, me, session, ctx, incident_id, report=report)


def _act(request: Request, me: SignedIn, session: SessionDep, ctx: ContextDep,
         incident_id: str, done: str, action: Any) -> Response:
    try:
        action()
    except HubError as exc:
        if isinstance(exc, NotFoundError):
            raise
        session.rollback()
        return _detail(request, me, session, ctx, incident_id, status=exc.status,
                       error=f"{str(exc)[0].upper()}{str(exc)[1:]}.")
    return RedirectResponse(f"/incidents/{quote(incident_id)}?done={done}", status_code=303)


@router.post("/incidents/{incident_id}/contain")
def contain(request: Request, incident_id: Id, me: GovernancePage, _csrf: CsrfChecked,
            session: SessionDep, ctx: ContextDep, client: NodeClientDep,
            keep_users: Annotated[str, Form(max_length=8)] = "") -> Response:
    return _act(request, me, session, ctx, incident_id, "contained",
                lambda: contain_incident(session, ctx, me.caller, incident_id=incident_id,
                                         client=client, suspend_users=not keep_users))


@router.post("/incidents/{incident_id}/notify")
def notify(request: Request, incident_id: Id, me: GovernancePage, _csrf: CsrfChecked,
           session: SessionDep, ctx: ContextDep) -> Response:
    sender = Notifier.from_settings(ctx.settings,
                                    getattr(request.app.state, "notify_transport", None))
    return _act(request, me, session, ctx, incident_id, "notified",
                lambda: incidents.notify(session, ctx, me.caller, incident_id=incident_id,
                                         notifier=sender))


@router.post("/incidents/{incident_id}/close")
def close(request: Request, incident_id: Id, me: GovernancePage, _csrf: CsrfChecked,
          session: SessionDep, ctx: ContextDep,
          resolution: Annotated[str, Form(max_length=20_000)] = "") -> Response:
    return _act(request, me, session, ctx, incident_id, "closed",
                lambda: incidents.close_incident(session, ctx, me.caller,
                                                 incident_id=incident_id,
                                                 resolution=resolution))


@router.get("/public/incidents")
def public(request: Request, _me: MaybeSignedIn, session: SessionDep,
           ctx: ContextDep) -> HTMLResponse:
    return render(request, "public_incidents.html",
                  incidents=incidents.public_incidents(session, ctx),
                  minimum=ctx.settings.incident_public_min_severity)
