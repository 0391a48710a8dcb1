"""Session and sign-in cookies, and CSRF protection of forms (docs/web.md).

* The **session cookie** holds a random session id (the server keeps only its hash,
  :mod:`hub.services.web_sessions`): ``HttpOnly``, ``SameSite=Strict``, ``Path=/`` and
  ``Secure`` unless the setting ``web_cookie_secure`` is false (plain-http loopback only).
  When secure it is named ``__Host-fedlink_session``: browsers then refuse it unless it
  came over HTTPS, from this host, for the whole site.
* Every form of a signed-in user carries the session's **synchronizer token**
  (:func:`hub.services.web_sessions.csrf_token_for`); a POST without the right one is
  refused with a 403 page and audited.
* The **sign-in form** has no session yet; it is protected against login CSRF by a
  double-submit nonce: a short-lived ``SameSite=Strict`` cookie whose value the form must
  repeat.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from hub.errors import AuthenticationError, PermissionDeniedError
from hub.settings import HubSettings

SIGNIN_NONCE_SECONDS = 3600


class SignInRequired(AuthenticationError):
    """A page needs a signed-in user; the page route answers with a redirect to sign in."""

    code = "sign_in_required"

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in to see this page")
        self.next = next_path


class CsrfError(PermissionDeniedError):
    """A form post without the session's (or sign-in form's) synchronizer token."""

    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "This form was not accepted: it has expired or did not come from a page of this "
            "hub. Go back, reload the page and try again."
        )


def session_cookie_name(settings: HubSettings) -> str:
    return "__Host-fedlink_session" if settings.web_cookie_secure else "fedlink_session"


def signin_cookie_name(settings: HubSettings) -> str:
    return "__Secure-fedlink_signin" if settings.web_cookie_secure else "fedlink_signin"


def read_session_cookie(request: Request, settings: HubSettings) -> str:
    return request.cookies.get(session_cookie_name(settings), "")


def set_session_cookie(response: Response, settings: HubSettings, raw: str) -> None:
    response.set_cookie(
        session_cookie_name(settings), raw, max_age=settings.web_session_hours * 3600,
        path="/", secure=settings.web_cookie_secure, httponly=True, samesite="strict",
    )


def clear_session_cookie(response: Response, settings: HubSettings) -> None:
    response.delete_cookie(session_cookie_name(settings), path="/",
                           secure=settings.web_cookie_secure, httponly=True,
                           samesite="strict")


def new_signin_nonce() -> str:
    return secrets.token_urlsafe(32)


def set_signin_nonce(response: Response, settings: HubSettings, nonce: str) -> None:
    """The sign-in form's nonce as a cookie; the form must repeat it (double submit)."""
    response.set_cookie(
        signin_cookie_name(settings), nonce, max_age=SIGNIN_NONCE_SECONDS, path="/signin",
        secure=settings.web_cookie_secure, httponly=True, samesite="strict",
    )


def clear_signin_nonce(response: Response, settings: HubSettings) -> None:
    response.delete_cookie(signin_cookie_name(settings), path="/signin",
                           secure=settings.web_cookie_secure, httponly=True,
                           samesite="strict")


def signin_nonce_matches(request: Request, settings: HubSettings, submitted: str) -> bool:
    expected = request.cookies.get(signin_cookie_name(settings), "")
    return bool(expected) and hmac.compare_digest(expected.encode(), submitted.encode())
