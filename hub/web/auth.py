"""Home, sign-in and sign-out pages.

Signing in exchanges an API token (``fedlink user redeem`` gives a person their own) for a
server-side session; the token itself is never kept in the browser. See :mod:`hub.web.sessions`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.api.deps import ContextDep, SessionDep, SourceDep
from hub.errors import AuthenticationError, PermissionDeniedError
from hub.services import web_sessions
from hub.web.deps import CsrfChecked, MaybeSignedIn, SignedInUser
from hub.web.pages import PageRoute, render, safe_next
from hub.web.sessions import (
    CsrfError,
    clear_session_cookie,
    clear_signin_nonce,
    new_signin_nonce,
    read_session_cookie,
    set_session_cookie,
    set_signin_nonce,
    signin_nonce_matches,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_REFUSED = ("This token was not accepted: it is unknown, expired or revoked, or your account "
            "still awaits governance approval. Issue yourself a new token with `fedlink user "
            "token`, or ask the hub administrator for a new invitation.")


@router.get("/")
def home(request: Request, me: MaybeSignedIn, signed_out: bool = False) -> HTMLResponse:
    return render(request, "home.html", signed_out=signed_out and me is None)


def _signin_form(request: Request, ctx: ContextDep, *, next_path: str, status: int = 200,
                 error: str = "") -> HTMLResponse:
    nonce = new_signin_nonce()
    response = render(request, "signin.html", status=status, next_path=next_path,
                      error=error, nonce=nonce)
    set_signin_nonce(response, ctx.settings, nonce)
    return response


@router.get("/signin")
def signin_page(request: Request, me: MaybeSignedIn, ctx: ContextDep,
                next: str = "/") -> Response:
    if me is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _signin_form(request, ctx, next_path=safe_next(next))


@router.post("/signin")
def signin(
    request: Request, me: MaybeSignedIn, session: SessionDep, ctx: ContextDep,
    source: SourceDep,
    token: Annotated[str, Form(max_length=200)] = "",
    signin_nonce: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not signin_nonce_matches(request, ctx.settings, signin_nonce):
        raise CsrfError()
    next_path = safe_next(next)
    if not token.strip():
        return _signin_form(request, ctx, next_path=next_path, status=422,
                            error="Enter your API token.")
    try:
        raw = web_sessions.sign_in(session, ctx, token=token.strip(), source=source)
    except AuthenticationError:
        return _signin_form(request, ctx, next_path=next_path, status=401,
                            error=_REFUSED)
    except PermissionDeniedError as exc:
        return _signin_form(request, ctx, next_path=next_path, status=403, error=str(exc))
    if me is not None:  # a new sign-in replaces the browser's earlier session
        web_sessions.sign_out(session, ctx, me,
                              raw=read_session_cookie(request, ctx.settings))
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, ctx.settings, raw)
    clear_signin_nonce(response, ctx.settings)
    return response


@router.post("/signout")
def signout(request: Request, me: SignedInUser, _csrf: CsrfChecked, session: SessionDep,
            ctx: ContextDep) -> Response:
    web_sessions.sign_out(session, ctx, me, raw=read_session_cookie(request, ctx.settings))
    response = RedirectResponse("/?signed_out=true", status_code=303)
    clear_session_cookie(response, ctx.settings)
    return response
