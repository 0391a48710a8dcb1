"""Named dependencies of the pages: the signed-in user (or nobody), role gates, and the
CSRF check of form posts.

Not signed in → :class:`SignInRequired` (the page route redirects to ``/signin?next=…``);
signed in with a role the page does not admit → 403 page, audited as ``auth.forbidden``
exactly like the API; a form post without the session's synchronizer token → 403 page,
audited as ``auth.csrf_refused``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from hub.api.deps import ContextDep, SessionDep, SourceDep
from hub.domain.roles import Role
from hub.errors import PermissionDeniedError
from hub.services import audit, web_sessions
from hub.services.web_sessions import SignedIn
from hub.web.sessions import CsrfError, SignInRequired, read_session_cookie


def current_user(request: Request, session: SessionDep, ctx: ContextDep,
                 source: SourceDep) -> SignedIn | None:
    """The user of the session cookie, if it names a live session (also kept on
    ``request.state.me`` so that error pages show the right navigation)."""
    me = web_sessions.resume(session, ctx, raw=read_session_cookie(request, ctx.settings),
                             source=source)
    request.state.me = me
    return me


MaybeSignedIn = Annotated[SignedIn | None, Depends(current_user)]


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def page_for(*roles: Role) -> Callable[..., SignedIn]:
    """A dependency admitting signed-in users of ``roles``."""
    admitted = frozenset(str(r) for r in roles)

    def dependency(me: MaybeSignedIn, request: Request, session: SessionDep,
                   ctx: ContextDep) -> SignedIn:
        if me is None:
            raise SignInRequired(_here(request) if request.method == "GET" else "/")
        if me.role in admitted:
            return me
        audit.refuse(session, ctx, me.caller, PermissionDeniedError(
            f"This page is for {', '.join(sorted(admitted))}; you are signed in as "
            f"{me.role}."), action="auth.forbidden",
            detail={"path": request.url.path, "method": request.method})

    return dependency


async def csrf_checked(request: Request, me: MaybeSignedIn, session: SessionDep,
                       ctx: ContextDep) -> None:
    """Refuse a form post whose ``csrf_token`` field is not the session's token."""
    if me is None:
        raise SignInRequired("/")
    form = await request.form()
    submitted = form.get("csrf_token")
    if isinstance(submitted, str) and hmac.compare_digest(me.csrf_token.encode(),
                                                          submitted.encode()):
        return
    audit.refuse(session, ctx, me.caller, CsrfError(), action="auth.csrf_refused",
                 detail={"path": request.url.path})


SignedInUser = Annotated[SignedIn, Depends(page_for(*Role))]
ReviewPage = Annotated[SignedIn, Depends(page_for(Role.GOVERNANCE, Role.STEWARD,
                                                  Role.AUDITOR))]
GovernancePage = Annotated[SignedIn, Depends(page_for(Role.GOVERNANCE))]
StewardPage = Annotated[SignedIn, Depends(page_for(Role.STEWARD))]
ResearcherPage = Annotated[SignedIn, Depends(page_for(Role.RESEARCHER))]
AuditPage = Annotated[SignedIn, Depends(page_for(Role.AUDITOR))]
ProjectPage = Annotated[SignedIn, Depends(page_for(Role.RESEARCHER, Role.GOVERNANCE,
                                                   Role.STEWARD, Role.AUDITOR))]
CsrfChecked = Annotated[None, Depends(csrf_checked)]
