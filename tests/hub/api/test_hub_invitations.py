"""No one acts for another: invitations, own tokens only, governance-approved accounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from hub.db.models import AuditEvent, Invitation
from hub.domain.roles import Caller, Principal
from hub.domain.tokens import hash_token
from hub.errors import PermissionDeniedError
from hub.services import invitations


def _invite(hub: Any, role: str, **extra: Any) -> dict[str, Any]:
    response = hub.client.post("/v1/invitations", headers=hub.auth(hub.admin_token),
                               json={"name": f"New {role}", "role": role, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _redeem(hub: Any, code: str) -> Any:
    return hub.client.post("/v1/invitations/redeem", json={"code": code})


def _actions(hub: Any) -> list[str]:
    with hub.ctx.session_factory() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def _close_bootstrap(hub: Any) -> list[str]:
    """Two governance members (the default quorum) exist: the bootstrap window is closed."""
    while len(hub.governance_tokens) < hub.ctx.settings.governance_quorum:
        hub.token("governance")
    return list(hub.governance_tokens)


def test_invitation_carries_no_token_and_code_is_stored_hashed(hub) -> None:
    invited = _invite(hub, "researcher")
    assert "token" not in invited and invited["code"].startswith("fli_")
    with hub.ctx.session_factory() as session:
        row = session.get(Invitation, invited["id"])
        assert row is not None and row.code_hash == hash_token(invited["code"])
        assert invited["code"] not in str(vars(row))
    redeemed = _redeem(hub, invited["code"])
    assert redeemed.status_code == 201 and redeemed.json()["status"] == "active"
    me = hub.client.get("/v1/me", headers=hub.auth(redeemed.json()["token"]))
    assert me.status_code == 200 and me.json()["role"] == "researcher"
    assert {"invitation.created", "invitation.redeemed", "user.activated"} <= set(_actions(hub))


def test_invitation_reuse_refused(hub) -> None:
    code = _invite(hub, "researcher")["code"]
    assert _redeem(hub, code).status_code == 201
    again = _redeem(hub, code)
    assert again.status_code == 409 and again.json()["error"] == "invitation_used"
    assert "invitation.redeem_refused" in _actions(hub)


def test_invitation_expired_refused(hub) -> None:
    code = _invite(hub, "researcher")["code"]
    hub.clock.offset = dt.timedelta(hours=hub.ctx.settings.invitation_ttl_hours + 1)
    response = _redeem(hub, code)
    assert response.status_code == 401 and response.json()["error"] == "invitation_expired"


def test_unknown_invitation_code_refused(hub) -> None:
    response = _redeem(hub, "fli_" + "x" * 43)
    assert response.status_code == 401 and response.json()["error"] == "invalid_invitation"


def test_admin_minting_another_users_token_refused(hub) -> None:
    user_id, _ = hub.user("auditor")
    response = hub.client.post(f"/v1/users/{user_id}/tokens", json={"label": "x"},
                               headers=hub.auth(hub.admin_token))
    assert response.status_code == 403
    assert response.json()["error"] == "token_for_another_user"
    gov_id, gov = hub.user("governance")
    response = hub.client.post(f"/v1/users/{user_id}/tokens", json={}, headers=hub.auth(gov))
    assert response.status_code == 403
    assert response.json()["error"] == "token_for_another_user"
    assert "token.issue_refused" in _actions(hub)
    own = hub.client.post(f"/v1/users/{gov_id}/tokens", json={}, headers=hub.auth(gov))
    assert own.status_code == 201


def test_admin_cannot_create_a_user_with_a_token(hub) -> None:
    response = hub.client.post("/v1/users", headers=hub.auth(hub.admin_token),
                               json={"name": "X", "role": "governance"})
    assert response.status_code == 405


def test_user_issues_own_token(hub) -> None:
    _, token = hub.user("researcher")
    issued = hub.client.post("/v1/me/tokens", json={"label": "laptop", "ttl_days": 7},
                             headers=hub.auth(token))
    assert issued.status_code == 201
    assert hub.client.get("/v1/me", headers=hub.auth(issued.json()["token"])).status_code == 200


@pytest.mark.parametrize(("role", "extra"), [("governance", {}), ("auditor", {}),
                                             ("steward", {"agency": "K12"})])
def test_privileged_account_inactive_until_quorum(hub, role: str, extra: dict[str, Any]) -> None:
    first, second = _close_bootstrap(hub)
    redeemed = _redeem(hub, _invite(hub, role, **extra)["code"]).json()
    assert redeemed["status"] == "pending"
    token = redeemed["token"]
    refused = hub.client.get("/v1/me", headers=hub.auth(token))
    assert refused.status_code == 401 and "awaits governance approval" in refused.json()["detail"]
    pending = hub.client.get("/v1/users/pending", headers=hub.auth(first)).json()
    assert [p["id"] for p in pending] == [redeemed["id"]]
    one = hub.client.post(f"/v1/users/{redeemed['id']}/approve", headers=hub.auth(first))
    assert one.status_code == 200 and one.json()["status"] == "pending"
    twice = hub.client.post(f"/v1/users/{redeemed['id']}/approve", headers=hub.auth(first))
    assert twice.status_code == 409 and twice.json()["error"] == "already_approved"
    assert hub.client.get("/v1/me", headers=hub.auth(token)).status_code == 401
    done = hub.client.post(f"/v1/users/{redeemed['id']}/approve", headers=hub.auth(second))
    assert done.status_code == 200 and done.json()["status"] == "active"
    assert hub.client.get("/v1/me", headers=hub.auth(token)).status_code == 200
    actions = _actions(hub)
    assert actions.count("user.approved") == 2 and actions[-1] == "user.activated"


def test_admin_approval_refused(hub) -> None:
    _close_bootstrap(hub)
    redeemed = _redeem(hub, _invite(hub, "auditor")["code"]).json()
    response = hub.client.post(f"/v1/users/{redeemed['id']}/approve",
                               headers=hub.auth(hub.admin_token))
    assert response.status_code == 403
    with hub.ctx.session_factory() as session:
        assert invitations.store.approver_ids(session, user_id=redeemed["id"]) == []


def test_self_approval_refused(hub) -> None:
    _close_bootstrap(hub)
    redeemed = _redeem(hub, _invite(hub, "governance")["code"]).json()
    # Over HTTP the pending account's own token does not even authenticate …
    response = hub.client.post(f"/v1/users/{redeemed['id']}/approve",
                               headers=hub.auth(redeemed["token"]))
    assert response.status_code == 401
    # … and the service refuses it even for a caller that did.
    caller = Caller(Principal(kind="user", id=redeemed["id"], role="governance"), "test")
    with hub.ctx.session_factory() as session, pytest.raises(PermissionDeniedError) as info:
        invitations.approve(session, hub.ctx, caller, user_id=redeemed["id"])
    assert info.value.code == "self_approval"


def test_deactivated_member_approval_does_not_count(hub) -> None:
    first, second = _close_bootstrap(hub)
    third = hub.token("governance")  # approved by the first two
    redeemed = _redeem(hub, _invite(hub, "auditor")["code"]).json()
    hub.client.post(f"/v1/users/{redeemed['id']}/approve", headers=hub.auth(first))
    with hub.ctx.session_factory() as session:
        me = hub.client.get("/v1/me", headers=hub.auth(first)).json()
        invitations.identity_store.get_user(session, user_id=me["id"]).active = False
        session.commit()
    result = hub.client.post(f"/v1/users/{redeemed['id']}/approve", headers=hub.auth(second))
    assert result.json()["status"] == "pending"
    result = hub.client.post(f"/v1/users/{redeemed['id']}/approve", headers=hub.auth(third))
    assert result.json()["status"] == "active"


def test_bootstrap_activates_only_until_quorum_ever_reached(hub) -> None:
    first = _redeem(hub, _invite(hub, "governance")["code"]).json()
    second = _redeem(hub, _invite(hub, "governance")["code"]).json()
    assert first["status"] == second["status"] == "active"
    with hub.ctx.session_factory() as session:
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.activated")))
        assert [e.detail["via"] for e in events] == ["bootstrap", "bootstrap"]
        # Deactivating a member does not reopen the window.
        invitations.identity_store.get_user(session, user_id=first["id"]).active = False
        session.commit()
    third = _redeem(hub, _invite(hub, "governance")["code"]).json()
    assert third["status"] == "pending"


def test_bootstrap_never_activates_a_steward_or_auditor(hub) -> None:
    """Before any governance quorum exists, an admin-invited auditor or steward still waits:
    only governance members bootstrap the hub."""
    for role, extra in (("auditor", {}), ("steward", {"agency": "K12"})):
        redeemed = _redeem(hub, _invite(hub, role, **extra)["code"]).json()
        assert redeemed["status"] == "pending"
        assert hub.client.get("/v1/me", headers=hub.auth(redeemed["token"])).status_code == 401


def test_only_the_first_admin_is_created_directly(hub) -> None:
    from hub.domain.roles import OPERATOR
    from hub.errors import InvalidInputError
    from hub.services import users

    with hub.ctx.session_factory() as session, pytest.raises(InvalidInputError):
        users.create_user(session, hub.ctx, OPERATOR, name="G", role="governance")


def test_invitation_list_never_shows_codes(hub) -> None:
    code = _invite(hub, "researcher")["code"]
    listed = hub.client.get("/v1/invitations", headers=hub.auth(hub.admin_token))
    assert listed.status_code == 200 and code not in listed.text
    assert listed.json()[-1]["state"] == "open"


def test_user_lists_and_revokes_own_tokens_only(hub) -> None:
    _, token = hub.user("researcher")
    new = hub.client.post("/v1/me/tokens", json={"label": "laptop"}, headers=hub.auth(token))
    listed = hub.client.get("/v1/me/tokens", headers=hub.auth(new.json()["token"])).json()
    assert [t["label"] for t in listed] == ["invitation", "laptop"]
    assert token not in str(listed)
    _, other = hub.user("researcher")
    theirs = hub.client.get("/v1/me/tokens", headers=hub.auth(other)).json()[0]["id"]
    refused = hub.client.delete(f"/v1/me/tokens/{theirs}", headers=hub.auth(token))
    assert refused.status_code == 404
    assert hub.client.get("/v1/me", headers=hub.auth(other)).status_code == 200
    old = listed[0]["id"]
    assert hub.client.delete(f"/v1/me/tokens/{old}",
                             headers=hub.auth(new.json()["token"])).status_code == 200
    assert hub.client.get("/v1/me", headers=hub.auth(token)).status_code == 401
