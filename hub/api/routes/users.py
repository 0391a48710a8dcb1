"""Users and API tokens (admin), and ``/v1/me``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import AdminCaller, AnyUserCaller, ContextDep, SessionDep
from hub.api.schemas import TokenCreate, UserCreate
from hub.persistence import identity as store
from hub.services import users

router = APIRouter(prefix="/v1", tags=["users"])


@router.post("/users", status_code=201, summary="Create a user and a first token [admin]")
def create_user(body: UserCreate, caller: AdminCaller, session: SessionDep,
                ctx: ContextDep) -> dict[str, Any]:
    user, issued = users.create_user(
        session, ctx, caller, name=body.name, role=body.role, email=body.email,
        agency=body.agency, institution=body.institution,
    )
    assert issued is not None
    return {**users.user_view(user), "token": issued.token, "token_id": issued.id,
            "token_expires_at": issued.expires_at.isoformat()}


@router.get("/users", summary="List users [admin]")
def list_users(caller: AdminCaller, session: SessionDep) -> list[dict[str, Any]]:
    return [users.user_view(u) for u in store.list_users(session)]


@router.post("/users/{user_id}/tokens", status_code=201,
             summary="Issue an API token for a user, shown once [admin]")
def issue_token(user_id: int, body: TokenCreate, caller: AdminCaller, session: SessionDep,
                ctx: ContextDep) -> dict[str, Any]:
    issued = users.issue_token(session, ctx, caller, user_id=user_id, label=body.label,
                               ttl_days=body.ttl_days)
    return {"id": issued.id, "token": issued.token, "expires_at": issued.expires_at.isoformat()}


@router.delete("/tokens/{token_id}", summary="Revoke a token [admin]")
def revoke_token(token_id: int, caller: AdminCaller, session: SessionDep,
                 ctx: ContextDep) -> dict[str, Any]:
    token = users.revoke_token(session, ctx, caller, token_id=token_id)
    return {"id": token.id, "revoked_at": token.revoked_at.isoformat() if token.revoked_at
            else None}


@router.get("/me", summary="Who this token belongs to [any user]")
def me(caller: AnyUserCaller, session: SessionDep) -> dict[str, Any]:
    assert caller.principal is not None and caller.principal.id is not None
    user = store.get_user(session, user_id=caller.principal.id)
    assert user is not None
    return users.user_view(user)
