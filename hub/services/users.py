"""People, roles and API tokens; authenticating a bearer token.

Accounts come from one-time invitations (:mod:`hub.services.invitations`); the only
account created directly is ``fedlink hub init``'s first admin. A user token is issued only
to its own user (``POST /v1/me/tokens``): an admin cannot mint a token for anyone else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import ApiToken, User
from hub.domain.roles import Caller, Principal, Role
from hub.domain.tokens import hash_token, new_token
from hub.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from hub.persistence import agencies as agency_store
from hub.persistence import identity as store
from hub.services import audit
from hub.services.context import HubContext

USER_TOKEN_PREFIX = "flu_"  # noqa: S105 - a label, not a secret
NODE_TOKEN_PREFIX = "fln_"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class IssuedToken:
    """A token as created: ``token`` is the only time its text exists outside the caller."""

    id: int
    token: str
    expires_at: dt.datetime


def account_status(user: User) -> str:
    """``active``, ``pending`` (waiting for the governance quorum) or ``deactivated``."""
    if user.activated_at is None:
        return "pending"
    return "active" if user.active else "deactivated"


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id, "name": user.name, "email": user.email, "role": user.role,
        "agency": user.agency_code, "institution": user.institution, "active": user.active,
        "status": account_status(user), "created_at": user.created_at.isoformat(),
    }


def check_new_account(session: Session, *, role: str, agency: str | None) -> str:
    """The role of a new account, checked with its agency binding."""
    try:
        role = Role(role).value
    except ValueError:
        raise InvalidInputError(
            f"role must be one of {', '.join(r.value for r in Role)}, not {role!r}"
        ) from None
    if role == Role.STEWARD and not agency:
        raise InvalidInputError("a steward must be bound to an agency (--agency CODE)")
    if role != Role.STEWARD and agency:
        raise InvalidInputError("only stewards are bound to an agency")
    if agency and agency_store.get_agency(session, code=agency) is None:
        raise InvalidInputError(f"agency {agency!r} does not exist")
    return role


def create_user(
    session: Session,
    ctx: HubContext,
    caller: Caller,
    *,
    name: str,
    role: str,
    email: str | None = None,
    agency: str | None = None,
    institution: str | None = None,
    with_token: bool = True,
) -> tuple[User, IssuedToken | None]:
    """The hub's first admin (``fedlink hub init``), with its token, in one transaction.

    Every other account comes from an invitation its holder redeems; an admin account is
    the only one created this way because it can read no request and no audit event."""
    role = check_new_account(session, role=role, agency=agency)
    if role != Role.ADMIN:
        raise InvalidInputError("only the first admin is created directly; invite everyone "
                                "else (fedlink hub user add / POST /v1/invitations)")
    user = store.create_user(session, name=name, role=role, email=email, agency_code=agency,
                             institution=institution)
    issued = _issue(session, ctx, user_id=user.id, label="initial") if with_token else None
    audit.record(session, ctx, caller, action="user.created", object_type="user",
                 object_id=str(user.id), agency=agency or "", detail={"role": role})
    session.commit()
    return user, issued


def _issue(
    session: Session, ctx: HubContext, *, user_id: int, label: str, ttl_days: int | None = None
) -> IssuedToken:
    token = new_token(USER_TOKEN_PREFIX)
    expires = ctx.now() + dt.timedelta(days=ttl_days or ctx.settings.user_token_ttl_days)
    row = store.create_token(session, kind="user", token_hash=hash_token(token),
                             expires_at=expires, user_id=user_id, label=label)
    return IssuedToken(id=row.id, token=token, expires_at=expires)


def issue_own(session: Session, ctx: HubContext, *, user_id: int, label: str) -> IssuedToken:
    """A user's token handed to that user (an invitation's redemption); not committed."""
    return _issue(session, ctx, user_id=user_id, label=label)


def issue_token(
    session: Session, ctx: HubContext, caller: Caller, *, user_id: int, label: str = "",
    ttl_days: int | None = None,
) -> IssuedToken:
    """A new token for the caller's own account (``user_id`` must be the caller's):
    refused for anyone else (403 ``token_for_another_user``), admins included."""
    principal = caller.principal
    if principal is None or principal.kind != "user" or principal.id != user_id:
        audit.refuse(session, ctx, caller, PermissionDeniedError(
            "a token is issued only to its own user; invite a new user instead",
            code="token_for_another_user"), action="token.issue_refused",
            object_type="user", object_id=str(user_id))
    user = store.get_user(session, user_id=user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} does not exist")
    if ttl_days is not None and not 1 <= ttl_days <= ctx.settings.user_token_ttl_days:
        raise InvalidInputError(
            f"ttl_days must be between 1 and {ctx.settings.user_token_ttl_days}"
        )
    issued = _issue(session, ctx, user_id=user_id, label=label, ttl_days=ttl_days)
    audit.record(session, ctx, caller, action="token.issued", object_type="token",
                 object_id=str(issued.id), detail={"user": user_id})
    session.commit()
    return issued


def issue_node_token(session: Session, ctx: HubContext, *, agency: str) -> IssuedToken:
    """A node's API token (enrollment); earlier node tokens of the agency are revoked.
    Not committed: enrollment commits it together with the keys and the catalog."""
    now = ctx.now()
    store.revoke_node_tokens(session, agency_code=agency, now=now)
    token = new_token(NODE_TOKEN_PREFIX)
    expires = now + dt.timedelta(days=ctx.settings.node_token_ttl_days)
    row = store.create_token(session, kind="node", token_hash=hash_token(token),
                             expires_at=expires, agency_code=agency, label="enrollment")
    return IssuedToken(id=row.id, token=token, expires_at=expires)


def token_view(token: ApiToken) -> dict[str, Any]:
    """A token's metadata (never its text, which the hub does not have)."""
    return {"id": token.id, "label": token.label, "created_at": token.created_at.isoformat(),
            "expires_at": token.expires_at.isoformat(),
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}


def revoke_token(session: Session, ctx: HubContext, caller: Caller, *, token_id: int,
                 own: bool = False) -> ApiToken:
    """Revoke a token (admin: any; ``own``: only one of the caller's own tokens, else 404)."""
    token = store.get_token(session, token_id=token_id)
    principal = caller.principal
    if own and (token is None or principal is None or token.kind != "user"
                or token.user_id != principal.id):
        token = None
    if token is None:
        raise NotFoundError(f"token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at = ctx.now()
    audit.record(session, ctx, caller, action="token.revoked", object_type="token",
                 object_id=str(token_id), agency=token.agency_code or "")
    session.commit()
    return token


def _token_problem(session: Session, ctx: HubContext,
                   row: ApiToken) -> tuple[str | None, User | None]:
    """Why a stored token may not be used (or ``None``), and its user for a user token."""
    if row.revoked_at is not None:
        return "token was revoked", None
    if row.expires_at <= ctx.now():
        return "token has expired", None
    if row.kind != "user":
        return None, None
    user = store.get_user(session, user_id=row.user_id) if row.user_id else None
    if user is not None and user.activated_at is None:
        return "account awaits governance approval", None
    if user is None or not user.active:
        return "token's user is deactivated", None
    return None, user


def _principal(row: ApiToken, user: User | None) -> Principal:
    if row.kind == "node":
        return Principal(kind="node", id=None, role="node", token_id=row.id,
                         agency=row.agency_code)
    assert user is not None
    return Principal(kind="user", id=user.id, role=user.role, token_id=row.id,
                     agency=user.agency_code, email=user.email)


def authenticate(session: Session, ctx: HubContext, *, token: str, source: str) -> Principal:
    """The principal a bearer token stands for; a bad token is audited and refused (401)."""
    row = store.find_token(session, token_hash=hash_token(token))
    problem, user = ("unknown token", None) if row is None else _token_problem(session, ctx, row)
    if problem is not None or row is None:
        # Audited one by one only up to a bound per source and window, then summarised
        # (hub.services.auth_throttle): bad tokens cannot grow the chain without bound.
        from hub.services.auth_throttle import refuse_bad_token

        refuse_bad_token(
            session, ctx, source=source,
            error=AuthenticationError(f"invalid API token: {problem}", code="invalid_token"),
            object_id=str(row.id) if row is not None else "",
        )
    return _principal(row, user)


def token_principal(session: Session, ctx: HubContext, *, token_id: int) -> Principal | None:
    """The principal of a stored token while it is still valid, else ``None``: a web
    session re-checks, on every request, the token that opened it (docs/web.md)."""
    row = store.get_token(session, token_id=token_id)
    if row is None:
        return None
    problem, user = _token_problem(session, ctx, row)
    return None if problem is not None else _principal(row, user)
