"""Rendering pages: the Jinja2 environment, HTML responses with security headers, and the
route class that turns every error of a page route into an HTML page (never JSON, never a
traceback).

Autoescaping is on for every template and no template marks user data ``|safe``: a title
of ``<script>…`` is shown as text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.errors import HubError
from hub.web.sessions import SignInRequired

log = logging.getLogger("hub.web")

#: Scripts, styles and requests only from the hub itself; no framing; forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Pages show governance and audit data: never keep them in a shared or browser cache.
    "Cache-Control": "no-store",
}

STATUS_LABELS = {
    "draft": "Draft", "submitted": "Submitted", "in_review": "In review",
    "changes_requested": "Changes requested", "approved": "Approved", "denied": "Denied",
    "withdrawn": "Withdrawn", "linking": "Linking", "ready": "Linked",
    "revoked": "Revoked", "expired": "Expired", "amending": "Amending",
}
DECISION_LABELS = {"approve": "Approved", "deny": "Denied",
                   "request_changes": "Changes requested"}

_ERROR_TITLES = {
    400: "The request could not be understood", 401: "Sign-in refused",
    403: "Not allowed", 404: "Not found", 405: "Not allowed here",
    409: "Not possible now", 422: "Check what you entered",
}


def _when(value: Any) -> str:
    """A time as ``2026-11-23 14:05 UTC`` (ISO text or datetime); dates as ``2026-11-23``."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _iso(value: Any) -> str:
    """Machine-readable form for ``<time datetime=…>``."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value or "")


def _compact(value: Any) -> str:
    """A value of an audit event's detail: text as is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def build_templates() -> Environment:
    env = Environment(
        loader=PackageLoader("hub.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["iso"] = _iso
    env.filters["status_label"] = lambda s: STATUS_LABELS.get(str(s), str(s))
    env.filters["decision_label"] = lambda s: DECISION_LABELS.get(str(s), str(s))
    env.filters["urlquote"] = lambda s: quote(str(s), safe="")
    env.filters["compact"] = _compact
    return env


def render(request: Request, template: str, /, *, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Render ``template`` with the layout's context: the hub's name and contact, the
    signed-in user (if any, from :mod:`hub.web.deps`) and the current path."""
    env: Environment = request.app.state.web_templates
    settings = request.app.state.hub.settings
    me = getattr(request.state, "me", None)
    html = env.get_template(template).render(
        me=me, csrf_token=me.csrf_token if me else "", path=request.url.path,
        hub_name=settings.hub_name, settings=settings, **context,
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    title = _ERROR_TITLES.get(status, "Something went wrong")
    return render(request, "error.html", status=status, title=title, message=message,
                  status_code=status)


def safe_next(target: str | None) -> str:
    """A local path to return to after sign-in; anything else (another site, ``//host``,
    a scheme) falls back to the home page, so the sign-in page is no open redirect."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 0x20 for c in target)):
        return "/"
    return target


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class PageRoute(APIRoute):
    """An API route whose failures are HTML pages: not signed in → 303 to the sign-in page;
    a hub error → a page with its status (403, 404, 409, 422…); anything unexpected → a
    500 page without internals. Every response gets :data:`SECURITY_HEADERS`."""

    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except SignInRequired as exc:
                response = RedirectResponse(f"/signin?next={quote(safe_next(exc.next))}",
                                            status_code=303)
            except HubError as exc:
                status = exc.status if 400 <= exc.status < 500 else 500
                response = error_page(request, status, str(exc) if status < 500 else
                                      "The hub could not show this page.")
            except RequestValidationError:
                response = error_page(request, 422, "Part of the address or form is not "
                                      "valid. Go back and check what you entered.")
            except StarletteHTTPException as exc:
                response = error_page(request, exc.status_code, str(exc.detail))
            except Exception as exc:  # the page must not leak internals
                log.error("unexpected %s on %s %s", type(exc).__name__, request.method,
                          request.url.path)
                response = error_page(request, 500, "The hub could not show this page.")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return handler
