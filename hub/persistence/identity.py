"""Users and API tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.base import utcnow
from hub.db.models import ApiToken, User


def create_user(
    session: Session,
    *,
    name: str,
    role: str,
    email: str | None = None,
    agency_code: str | None = None,
    institution: str | None = None,
    active: bool = True,
) -> User:
    """A user; ``active=False`` leaves it pending (``activated_at`` unset) until approved."""
    now = utcnow()
    user = User(
        name=name, role=role, email=email, agency_code=agency_code, institution=institution,
        active=active, created_at=now, activated_at=now if active else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def users_by_ids(session: Session, *, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


def create_token(
    session: Session,
    *,
    kind: str,
    token_hash: str,
    expires_at: dt.datetime,
    user_id: int | None = None,
    agency_code: str | None = None,
    label: str = "",
) -> ApiToken:
    token = ApiToken(
        kind=kind, user_id=user_id, agency_code=agency_code, token_hash=token_hash,
        label=label, created_at=utcnow(), expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token


def find_token(session: Session, *, token_hash: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def get_token(session: Session, *, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def user_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    return list(session.scalars(
        select(ApiToken).where(ApiToken.kind == "user", ApiToken.user_id == user_id)
        .order_by(ApiToken.id)
    ))


def revoke_node_tokens(session: Session, *, agency_code: str, now: dt.datetime) -> None:
    for token in session.scalars(
        select(ApiToken).where(
            ApiToken.kind == "node", ApiToken.agency_code == agency_code,
            ApiToken.revoked_at.is_(None),
        )
    ):
        token.revoked_at = now
