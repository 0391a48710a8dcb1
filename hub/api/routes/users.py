"""Invitations and users (admin), account approval (governance), and ``/v1/me``.

No one acts for another: an admin invites, the invitee redeems the one-time code and gets
their own token; tokens are issued only to their own user (hub.services.invitations).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import (
    AdminCaller,
    AnonymousCaller,
    AnyUserCaller,
    ContextDep,
    GovernanceCaller,
    SessionDep,
)
from hub.api.responses import ONE_TIME_SECRET, USER, USER_CHANGE, USER_CREATE
from hub.api.schemas import InvitationRedeem, RowId, TokenCreate, UserCreate
from hub.api.schemas_views import (
    ApprovedAccount,
    InvitationView,
    IssuedInvitation,
    IssuedToken,
    PendingAccount,
    RedeemedAccount,
    RevokedToken,
    TokenView,
    UserView,
    returns,
)
from hub.persistence import accounts as account_store
from hub.persistence import identity as store
from hub.services import invitations, users

router = APIRouter(prefix="/v1", tags=["users"])


@router.post("/invitations", responses=USER_CREATE, status_code=201,
             **returns(IssuedInvitation),
             summary="Invite a person; the one-time code is shown once [admin]")
def invite(body: UserCreate, caller: AdminCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Create a one-time invitation code for a person and role (a steward's `agency` is
    required). The code is in this answer only; the invitee redeems it with `POST
    /v1/invitations/redeem`. Privileged roles (governance, steward, auditor, admin) then
    wait for the governance quorum."""
    issued = invitations.invite(session, ctx, caller, name=body.name, role=body.role,
                                email=body.email, agency=body.agency,
                                institution=body.institution)
    return {**invitations.invitation_view(issued.invitation, now=ctx.now()),
            "code": issued.code}


@router.get("/invitations", responses=USER, **returns(list[InvitationView]),
            summary="List invitations (never their codes) [admin]")
def list_invitations(caller: AdminCaller, session: SessionDep,
                     ctx: ContextDep) -> list[dict[str, Any]]:
    """Every invitation with its state (open, redeemed, expired); never a code."""
    now = ctx.now()
    return [invitations.invitation_view(i, now=now)
            for i in account_store.list_invitations(session)]


@router.post("/invitations/redeem", responses=ONE_TIME_SECRET, status_code=201,
             **returns(RedeemedAccount),
             summary="Redeem your invitation code for your account and first token")
def redeem(body: InvitationRedeem, caller: AnonymousCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Exchange an invitation code for your account and your first API token (shown once; the
    hub keeps only its hash). No token needed; a wrong, used or expired code is 401.
    Privileged accounts are `pending` until the governance quorum approves them."""
    user, issued = invitations.redeem(session, ctx, caller, code=body.code, label=body.label)
    return {**users.user_view(user), "token": issued.token, "token_id": issued.id,
            "token_expires_at": issued.expires_at.isoformat()}


@router.get("/users/pending", responses=USER, **returns(list[PendingAccount]),
            summary="Privileged accounts waiting for the governance quorum [governance]")
def pending(caller: GovernanceCaller, session: SessionDep,
            ctx: ContextDep) -> list[dict[str, Any]]:
    """Privileged accounts waiting for approval, with the members who approved so far and the
    quorum."""
    return invitations.pending_view(session, ctx)


@router.post("/users/{user_id}/approve", responses=USER_CHANGE, **returns(ApprovedAccount),
             summary="Approve a pending privileged account [governance]")
def approve(user_id: RowId, caller: GovernanceCaller, session: SessionDep,
            ctx: ContextDep) -> dict[str, Any]:
    """Count your approval of a pending privileged account; it becomes active at the quorum.
    409 when it is not pending or you approved already."""
    user, counted = invitations.approve(session, ctx, caller, user_id=user_id)
    return {**users.user_view(user), "approvals": counted,
            "quorum": ctx.settings.governance_quorum}


@router.get("/users", responses=USER, **returns(list[UserView]), summary="List users [admin]")
def list_users(caller: AdminCaller, session: SessionDep) -> list[dict[str, Any]]:
    """Every account (never a token)."""
    return [users.user_view(u) for u in store.list_users(session)]


@router.post("/users/{user_id}/tokens", responses=USER_CHANGE, status_code=201,
             **returns(IssuedToken),
             summary="Issue a token for your own account only (else 403) [any user]")
def issue_token(user_id: RowId, body: TokenCreate, caller: AnyUserCaller, session: SessionDep,
                ctx: ContextDep) -> dict[str, Any]:
    """A new API token for your own account (`user_id` must be yours, else 403). Shown once.
    Prefer `POST /v1/me/tokens`."""
    issued = users.issue_token(session, ctx, caller, user_id=user_id, label=body.label,
                               ttl_days=body.ttl_days)
    return {"id": issued.id, "token": issued.token, "expires_at": issued.expires_at.isoformat()}


@router.delete("/tokens/{token_id}", responses=USER_CHANGE, **returns(RevokedToken),
               summary="Revoke a token [admin]")
def revoke_token(token_id: RowId, caller: AdminCaller, session: SessionDep,
                 ctx: ContextDep) -> dict[str, Any]:
    """Revoke any token by id; it stops working at once."""
    token = users.revoke_token(session, ctx, caller, token_id=token_id)
    return {"id": token.id, "revoked_at": token.revoked_at.isoformat() if token.revoked_at
            else None}


@router.post("/me/tokens", responses=USER_CREATE, status_code=201, **returns(IssuedToken),
             summary="Issue yourself a new API token, shown once [any user]")
def issue_own_token(body: TokenCreate, caller: AnyUserCaller, session: SessionDep,
                    ctx: ContextDep) -> dict[str, Any]:
    """A new API token for yourself, with an optional label and lifetime (`ttl_days`). Shown
    once: store it like a password."""
    assert caller.principal is not None and caller.principal.id is not None
    issued = users.issue_token(session, ctx, caller, user_id=caller.principal.id,
                               label=body.label, ttl_days=body.ttl_days)
    return {"id": issued.id, "token": issued.token, "expires_at": issued.expires_at.isoformat()}


@router.get("/me/tokens", responses=USER, **returns(list[TokenView]),
            summary="Your own tokens (never their text) [any user]")
def list_own_tokens(caller: AnyUserCaller, session: SessionDep) -> list[dict[str, Any]]:
    """Your tokens' metadata (label, expiry, revocation); never their text."""
    assert caller.principal is not None and caller.principal.id is not None
    return [users.token_view(t) for t in store.user_tokens(session, user_id=caller.principal.id)]


@router.delete("/me/tokens/{token_id}", responses=USER_CHANGE, **returns(TokenView),
               summary="Revoke one of your own tokens [any user]")
def revoke_own_token(token_id: RowId, caller: AnyUserCaller, session: SessionDep,
                     ctx: ContextDep) -> dict[str, Any]:
    """Revoke one of your own tokens (404 for a token that is not yours)."""
    return users.token_view(users.revoke_token(session, ctx, caller, token_id=token_id,
                                               own=True))


@router.get("/me", responses=USER, **returns(UserView),
            summary="Who this token belongs to [any user]")
def me(caller: AnyUserCaller, session: SessionDep) -> dict[str, Any]:
    """The account the bearer token belongs to: a cheap way to check a token."""
    assert caller.principal is not None and caller.principal.id is not None
    user = store.get_user(session, user_id=caller.principal.id)
    assert user is not None
    return users.user_view(user)
