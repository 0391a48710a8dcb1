"""Web sessions: exchanging an API token for a server-side browser session, resuming it on
each request, and ending it (docs/web.md).

The browser holds a random 256-bit session id in an HTTP-only cookie; the hub stores only
its SHA-256 (like API tokens, docs/hub.md), so a copy of the table opens no session. A
session ends at sign-out, ``web_session_hours`` after sign-in, after
``web_session_idle_minutes`` without a request, and as soon as the API token that opened
it is revoked or expires or its user is deactivated. Sign-in and sign-out are audited;
a bad token at sign-in is audited as ``auth.failed`` by :func:`users.authenticate`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hub.domain.roles import Caller
from hub.domain.tokens import hash_token
from hub.errors import PermissionDeniedError
from hub.persistence import identity as identity_store
from hub.persistence import web_sessions as store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.users import authenticate, token_principal

#: Last-seen times are written at most this often (not on every page view).
_TOUCH_EVERY = dt.timedelta(seconds=60)
_CSRF_CONTEXT = b"fedlink web csrf v1"


@dataclass(frozen=True)
class SignedIn:
    """A resumed session: who acts, their display name, and the session's CSRF token."""

    caller: Caller
    name: str
    csrf_token: str
    session_id: int

    @property
    def role(self) -> str:
        return self.caller.role

    @property
    def agency(self) -> str | None:
        return self.caller.principal.agency if self.caller.principal else None


def csrf_token_for(raw_session: str) -> str:
    """The synchronizer token of a session: an HMAC keyed by the session id, so it is tied
    to that session, needs no storage, and does not reveal the id when a page shows it."""
    return hmac.new(raw_session.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def csrf_matches(raw_session: str, submitted: str) -> bool:
    return hmac.compare_digest(csrf_token_for(raw_session).encode(), submitted.encode())


def sign_in(session: Session, ctx: HubContext, *, token: str, source: str) -> str:
    """Open a session for the user of ``token``; return the raw session id (for the cookie
    only). A bad token is refused (401, audited); a node token is refused (403, audited)."""
    principal = authenticate(session, ctx, token=token, source=source)
    caller = Caller(principal, source)
    if principal.kind != "user" or principal.id is None or principal.token_id is None:
        audit.refuse(session, ctx, caller, PermissionDeniedError(
            "node tokens cannot sign in to the web pages", code="node_token_not_admitted"),
            action="auth.forbidden", detail={"path": "/signin"})
    token_row = identity_store.get_token(session, token_id=principal.token_id)
    assert token_row is not None
    now = ctx.now()
    expires = min(now + dt.timedelta(hours=ctx.settings.web_session_hours),
                  token_row.expires_at)
    store.purge_sessions(session, ended_before=now - dt.timedelta(days=1))
    raw = secrets.token_urlsafe(32)
    row = store.create_session(session, session_hash=hash_token(raw), user_id=principal.id,
                               token_id=principal.token_id, now=now, expires_at=expires,
                               source=source)
    audit.record(session, ctx, caller, action="session.started", object_type="session",
                 object_id=str(row.id),
                 detail={"token": principal.token_id, "expires_at": expires.isoformat()})
    session.commit()
    return raw


def resume(session: Session, ctx: HubContext, *, raw: str, source: str) -> SignedIn | None:
    """The signed-in user of a session cookie, or ``None`` when the session is unknown,
    ended, expired, idle too long, or its token or user is no longer valid."""
    if not raw:
        return None
    row = store.find_session(session, session_hash=hash_token(raw))
    now = ctx.now()
    idle = dt.timedelta(minutes=ctx.settings.web_session_idle_minutes)
    if (row is None or row.ended_at is not None or row.expires_at <= now
            or row.last_seen_at + idle <= now):
        return None
    principal = token_principal(session, ctx, token_id=row.token_id)
    if principal is None or principal.id != row.user_id:
        return None
    user = identity_store.get_user(session, user_id=row.user_id)
    assert user is not None  # token_principal checked the user is active
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return SignedIn(caller=Caller(principal, source), name=user.name,
                    csrf_token=csrf_token_for(raw), session_id=row.id)


def sign_out(session: Session, ctx: HubContext, signed_in: SignedIn, *, raw: str) -> None:
    """End the session (it cannot be resumed again, even with the old cookie)."""
    row = store.find_session(session, session_hash=hash_token(raw))
    if row is None or row.ended_at is not None:
        return
    row.ended_at = ctx.now()
    audit.record(session, ctx, signed_in.caller, action="session.ended",
                 object_type="session", object_id=str(row.id))
    session.commit()
