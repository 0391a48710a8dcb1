"""Accounts by invitation, and governance approval of privileged accounts.

No one acts for another (docs/hub.md, "Users, roles and invitations"):

* An admin (or the operator, offline) *invites* a person; the answer carries a one-time code
  (stored as SHA-256, expiring after ``invitation_ttl_hours``) and no token. The invitee
  redeems the code themselves and only then gets their first API token — the only token of
  the account that anyone ever sees, so no admin can hold it.
* Governance, steward and auditor accounts (:data:`PRIVILEGED_ROLES`) stay pending after
  redemption until ``governance_quorum`` distinct active governance members approve them,
  each with their own token. Admins cannot approve (role), nor can anyone approve their own
  account.
* Bootstrap: while fewer than ``governance_quorum`` governance accounts have *ever* been
  activated, a redeemed *governance* account activates at once (audited ``via:
  bootstrap``): there is no quorum yet to approve it. Steward and auditor accounts always
  wait for the quorum. The window closes for good when the quorum-th governance account
  activates; deactivating members later does not reopen it.

Every step is an audit event: ``invitation.created``, ``invitation.redeemed``,
``user.approved``, ``user.activated`` (``via`` invitation, bootstrap or governance_quorum).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Invitation, User
from hub.domain.roles import PRIVILEGED_ROLES, Caller, Principal, Role
from hub.domain.tokens import hash_token, new_token
from hub.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from hub.persistence import accounts as store
from hub.persistence import identity as identity_store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.users import IssuedToken, check_new_account, issue_own

INVITATION_PREFIX = "fli_"


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation as created: ``code`` is the only time its text exists."""

    invitation: Invitation
    code: str


def invitation_view(invitation: Invitation, *, now: dt.datetime) -> dict[str, Any]:
    state = ("redeemed" if invitation.redeemed_at is not None
             else "expired" if invitation.expires_at <= now else "open")
    return {
        "id": invitation.id, "name": invitation.name, "email": invitation.email,
        "role": invitation.role, "agency": invitation.agency_code,
        "institution": invitation.institution, "created_by": invitation.created_by,
        "created_at": invitation.created_at.isoformat(),
        "expires_at": invitation.expires_at.isoformat(), "state": state,
        "user_id": invitation.user_id,
        "needs_governance_approval": invitation.role in PRIVILEGED_ROLES,
    }


def invite(
    session: Session, ctx: HubContext, caller: Caller, *, name: str, role: str,
    email: str | None = None, agency: str | None = None, institution: str | None = None,
) -> IssuedInvitation:
    """Invite one person to an account of ``role``; the code is returned once."""
    role = check_new_account(session, role=role, agency=agency)
    code = new_token(INVITATION_PREFIX)
    invitation = store.create_invitation(
        session, code_hash=hash_token(code), name=name, role=role, email=email,
        agency_code=agency, institution=institution, created_by=caller.actor,
        expires_at=ctx.now() + dt.timedelta(hours=ctx.settings.invitation_ttl_hours),
    )
    audit.record(session, ctx, caller, action="invitation.created", object_type="invitation",
                 object_id=str(invitation.id), agency=agency or "", detail={"role": role})
    session.commit()
    return IssuedInvitation(invitation=invitation, code=code)


def _bootstrap_open(session: Session, ctx: HubContext) -> bool:
    return (store.count_activated(session, role=Role.GOVERNANCE)
            < ctx.settings.governance_quorum)


def _as_user(user: User, source: str) -> Caller:
    return Caller(Principal(kind="user", id=user.id, role=user.role, agency=user.agency_code,
                            email=user.email), source)


def redeem(session: Session, ctx: HubContext, caller: Caller, *, code: str,
           label: str = "") -> tuple[User, IssuedToken]:
    """The invitee's own redemption: create the account and its first token.

    Refused: an unknown code (401 ``invalid_invitation``), a used one (409
    ``invitation_used``), an expired one (401 ``invitation_expired``)."""
    invitation = store.find_invitation(session, code_hash=hash_token(code.strip()), lock=True)
    if invitation is None:
        # Not audited: an unknown code names no object, and anyone could fill the log.
        raise AuthenticationError("unknown invitation code", code="invalid_invitation")
    fields: dict[str, Any] = {"object_type": "invitation", "object_id": str(invitation.id)}
    if invitation.redeemed_at is not None:
        audit.refuse(session, ctx, caller, ConflictError(
            "this invitation was already redeemed", code="invitation_used"),
            action="invitation.redeem_refused", **fields)
    if invitation.expires_at <= ctx.now():
        audit.refuse(session, ctx, caller, AuthenticationError(
            "this invitation has expired; ask for a new one", code="invitation_expired"),
            action="invitation.redeem_refused", **fields)
    privileged = invitation.role in PRIVILEGED_ROLES
    bootstrap = invitation.role == Role.GOVERNANCE and _bootstrap_open(session, ctx)
    active = not privileged or bootstrap
    user = identity_store.create_user(
        session, name=invitation.name, role=invitation.role, email=invitation.email,
        agency_code=invitation.agency_code, institution=invitation.institution, active=active,
    )
    invitation.redeemed_at, invitation.user_id = ctx.now(), user.id
    issued = issue_own(session, ctx, user_id=user.id, label=label or "invitation")
    invitee = _as_user(user, caller.source)
    audit.record(session, ctx, invitee, action="invitation.redeemed", **fields,
                 agency=user.agency_code or "",
                 detail={"role": user.role, "user": user.id, "token": issued.id})
    if active:
        audit.record(session, ctx, invitee, action="user.activated", object_type="user",
                     object_id=str(user.id), agency=user.agency_code or "",
                     detail={"role": user.role,
                             "via": "bootstrap" if bootstrap else "invitation"})
    session.commit()
    return user, issued


def approve(session: Session, ctx: HubContext, caller: Caller, *,
            user_id: int) -> tuple[User, list[int]]:
    """A governance member's approval of a pending privileged account; the account
    activates when ``governance_quorum`` distinct active members have approved it."""
    principal = caller.principal
    assert principal is not None and principal.id is not None
    fields: dict[str, Any] = {"object_type": "user", "object_id": str(user_id)}
    if principal.role != Role.GOVERNANCE:
        # The route admits governance only; kept here so no other path can approve.
        audit.refuse(session, ctx, caller, PermissionDeniedError(
            "only governance members approve accounts", code="approver_not_governance"),
            action="user.approval_refused", **fields)
    user = identity_store.get_user(session, user_id=user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} does not exist")
    if user.id == principal.id:
        audit.refuse(session, ctx, caller, PermissionDeniedError(
            "no one approves their own account", code="self_approval"),
            action="user.approval_refused", **fields)
    if user.activated_at is not None:
        raise ConflictError(f"user {user_id} is not waiting for approval",
                            code="account_not_pending")
    approvers = store.approver_ids(session, user_id=user.id)
    if principal.id in approvers:
        raise ConflictError("you have already approved this account", code="already_approved")
    store.add_approval(session, user_id=user.id, approver_id=principal.id)
    audit.record(session, ctx, caller, action="user.approved", agency=user.agency_code or "",
                 detail={"role": user.role}, **fields)
    approvers.append(principal.id)
    counted = _active_governance(session, approvers)
    if len(counted) >= ctx.settings.governance_quorum:
        user.active, user.activated_at = True, ctx.now()
        audit.record(session, ctx, caller, action="user.activated",
                     agency=user.agency_code or "",
                     detail={"role": user.role, "via": "governance_quorum",
                             "approvers": counted}, **fields)
    session.commit()
    return user, counted


def _active_governance(session: Session, ids: list[int]) -> list[int]:
    """The approvers who still count: active governance members (a member deactivated
    since approving no longer does)."""
    found = identity_store.users_by_ids(session, ids=set(ids))
    return [i for i in ids if (u := found.get(i)) is not None and u.active
            and u.role == Role.GOVERNANCE]


def pending_view(session: Session, ctx: HubContext) -> list[dict[str, Any]]:
    """Accounts waiting for governance approval, with who has approved so far."""
    from hub.services.users import user_view

    return [{**user_view(u), "approvals": store.approver_ids(session, user_id=u.id),
             "quorum": ctx.settings.governance_quorum}
            for u in store.pending_users(session)]

