"""Public transparency pages, no sign-in: approved and closed projects, denied requests with
their public reasons, how long decisions take, how data is protected, and whom to ask.

The content is :func:`hub.services.transparency.public_projects` — the same list as
``GET /v1/public/projects``, paged the same way (``?limit=&offset=``) — so the page can
never show more than the JSON does.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.api.deps import ContextDep, SessionDep
from hub.api.routes.public import PageLimit, PageOffset
from hub.services.agenda import public_agenda
from hub.services.transparency import PAGE_DEFAULT, contact_person, public_projects
from hub.settings import CLASSIFICATIONS
from hub.web.deps import MaybeSignedIn
from hub.web.pages import PageRoute, render

router = APIRouter(prefix="/public", route_class=PageRoute, include_in_schema=False)


@router.get("")
def transparency(request: Request, _me: MaybeSignedIn, session: SessionDep,
                 ctx: ContextDep, limit: PageLimit = PAGE_DEFAULT,
                 offset: PageOffset = 0) -> HTMLResponse:
    data = public_projects(session, ctx, limit=limit, offset=offset)
    return render(request, "public.html", data=data, contact=contact_person(ctx),
                  agenda=public_agenda(session, ctx)["items"])


@router.get("/privacy")
def privacy(request: Request, _me: MaybeSignedIn, ctx: ContextDep) -> HTMLResponse:
    quorums = {c: ctx.settings.quorum_for({c}) for c in CLASSIFICATIONS}
    return render(request, "privacy.html", contact=contact_person(ctx), quorums=quorums)
