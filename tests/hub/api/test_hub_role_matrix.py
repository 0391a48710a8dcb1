"""Every endpoint × every kind of caller: admitted roles get a 2xx, others 403, no token 401.

Each case builds the state its endpoint needs (a draft owned by the caller, a submitted or
approved request, a signed decision…), so an admitted role must really succeed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

PRINCIPALS = ("none", "admin", "researcher", "governance", "steward", "auditor", "node")
USERS = ("admin", "researcher", "governance", "steward", "auditor")
READERS = ("researcher", "governance", "steward", "auditor")
PUBLIC = PRINCIPALS

Builder = Callable[[Any, str, str], tuple[str, dict[str, Any]]]


def _owner(hub: Any, role: str, token: str) -> str:
    return token if role == "researcher" else hub.token("researcher")


def _draft(hub: Any, role: str, token: str) -> str:
    return str(hub.create_request(_owner(hub, role, token)))


def _submitted(hub: Any, role: str, token: str) -> str:
    return str(hub.submitted_request(_owner(hub, role, token)))


def _approved(hub: Any, role: str, token: str) -> str:
    request_id = _submitted(hub, role, token)
    for agency in ("K12", "HE"):
        assert hub.decide(request_id, agency).status_code == 200
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    return request_id


def _agenda_item(hub: Any) -> int:
    response = hub.client.post("/v1/agenda", headers=hub.auth(hub.governance_tokens[0]),
                               json={"question": f"Question {secrets.token_hex(2)}?"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _enrollment(hub: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from protocol.keyfiles import public_key_to_b64

    code = f"A{secrets.token_hex(3)}"
    created = hub.client.post("/v1/agencies", headers=hub.auth(hub.admin_token), json={
        "code": code, "name": code, "url": "http://x.example"})
    key = Ed25519PrivateKey.generate()
    return {"json": {"agency": code, "enrollment_token": created.json()["enrollment_token"],
                     "signing_public_key": public_key_to_b64(key.public_key())}}


def _decision(hub: Any, role: str, token: str) -> tuple[str, dict[str, Any]]:
    request_id = _submitted(hub, role, token)
    envelope = hub.decision_envelope(request_id, "K12")
    return f"/v1/node/requests/{request_id}/decision", {"content": envelope}


def _token_id(hub: Any) -> int:
    token = hub.token("auditor")
    response = hub.client.post("/v1/me/tokens", json={}, headers=hub.auth(token))
    return int(response.json()["id"])


def _redeem(hub: Any) -> dict[str, Any]:
    invited = hub.client.post("/v1/invitations", headers=hub.auth(hub.admin_token),
                              json={"name": "New Person", "role": "researcher"})
    return {"json": {"code": invited.json()["code"]}}


def _pending_user(hub: Any) -> int:
    """A steward account waiting for approval (quorum 2: one approval leaves it pending)."""
    while len(hub.governance_tokens) < 2:  # the bootstrap window closed
        hub.token("governance")
    invited = hub.client.post("/v1/invitations", headers=hub.auth(hub.admin_token),
                              json={"name": "New Steward", "role": "steward",
                                    "agency": "K12"})
    redeemed = hub.client.post("/v1/invitations/redeem", json={"code": invited.json()["code"]})
    assert redeemed.json()["status"] == "pending", redeemed.text
    return int(redeemed.json()["id"])


CASES: list[tuple[str, str, tuple[str, ...], Builder]] = [
    ("GET", "health", PUBLIC, lambda h, r, t: ("/health", {})),
    ("GET", "public projects", PUBLIC, lambda h, r, t: ("/v1/public/projects", {})),
    ("GET", "hub keys", PUBLIC, lambda h, r, t: ("/v1/hub/keys", {})),
    ("POST", "enrollment", PUBLIC, lambda h, r, t: ("/v1/enrollment", _enrollment(h))),
    ("GET", "me", USERS, lambda h, r, t: ("/v1/me", {})),
    ("POST", "invite", ("admin",),
     lambda h, r, t: ("/v1/invitations", {"json": {"name": "New Person", "role": "auditor"}})),
    ("GET", "list invitations", ("admin",), lambda h, r, t: ("/v1/invitations", {})),
    ("POST", "redeem invitation", PUBLIC,
     lambda h, r, t: ("/v1/invitations/redeem", _redeem(h))),
    ("GET", "list users", ("admin",), lambda h, r, t: ("/v1/users", {})),
    ("GET", "pending accounts", ("governance",), lambda h, r, t: ("/v1/users/pending", {})),
    ("POST", "approve account", ("governance",),
     lambda h, r, t: (f"/v1/users/{_pending_user(h)}/approve", {})),
    ("POST", "issue own token", USERS,
     lambda h, r, t: ("/v1/me/tokens", {"json": {"label": "x"}})),
    ("GET", "own tokens", USERS, lambda h, r, t: ("/v1/me/tokens", {})),
    ("POST", "record training", ("governance",),
     lambda h, r, t: (f"/v1/users/{h.user('researcher')[0]}/training", {"json": {
         "training": "data-privacy", "completed_on": "2026-01-05",
         "expires_on": "2099-01-05"}})),
    ("GET", "someone's training", ("admin", "governance", "auditor"),
     lambda h, r, t: (f"/v1/users/{h.user('researcher')[0]}/training", {})),
    ("DELETE", "revoke token", ("admin",), lambda h, r, t: (f"/v1/tokens/{_token_id(h)}", {})),
    ("POST", "create agency", ("admin",), lambda h, r, t: ("/v1/agencies", {"json": {
        "code": f"B{secrets.token_hex(3)}", "name": "B", "url": "http://b.example"}})),
    ("GET", "list agencies", USERS, lambda h, r, t: ("/v1/agencies", {})),
    ("GET", "catalog", USERS, lambda h, r, t: ("/v1/catalog", {})),
    ("POST", "create request", ("researcher",),
     lambda h, r, t: ("/v1/requests", {"json": h.agreement()})),
    ("GET", "list requests", READERS, lambda h, r, t: ("/v1/requests", {})),
    ("GET", "get request", READERS,
     lambda h, r, t: (f"/v1/requests/{_submitted(h, r, t)}", {})),
    ("PATCH", "edit request", ("researcher",),
     lambda h, r, t: (f"/v1/requests/{_draft(h, r, t)}", {"json": {"title": "New title"}})),
    ("POST", "submit request", ("researcher",),
     lambda h, r, t: (f"/v1/requests/{_draft(h, r, t)}/submit", {})),
    ("POST", "withdraw request", ("researcher",),
     lambda h, r, t: (f"/v1/requests/{_draft(h, r, t)}/withdraw", {"json": {"reason": "x"}})),
    ("POST", "revoke request", ("governance",),
     lambda h, r, t: (f"/v1/requests/{_approved(h, r, t)}/revoke", {"json": {"reason": "x"}})),
    ("POST", "declare conflict", ("governance",),
     lambda h, r, t: (f"/v1/requests/{_submitted(h, r, t)}/conflicts",
                      {"json": {"conflicted": True, "reason": "co-author"}})),
    ("GET", "conflicts", ("governance",),
     lambda h, r, t: (f"/v1/requests/{_submitted(h, r, t)}/conflicts", {})),
    ("POST", "review request", ("governance",),
     lambda h, r, t: (f"/v1/requests/{_submitted(h, r, t)}/reviews",
                      {"json": {"decision": "approve", "criteria": h.criteria()}})),
    ("GET", "review policy", USERS, lambda h, r, t: ("/v1/review-policy", {})),
    ("GET", "agenda", USERS, lambda h, r, t: ("/v1/agenda", {})),
    ("GET", "public agenda", PUBLIC, lambda h, r, t: ("/v1/public/agenda", {})),
    ("POST", "add agenda item", ("governance",),
     lambda h, r, t: ("/v1/agenda", {"json": {"question": "Which supports work?"}})),
    ("POST", "retire agenda item", ("governance",),
     lambda h, r, t: (f"/v1/agenda/{_agenda_item(h)}/retire", {"json": {}})),
    ("GET", "node pending", ("node",), lambda h, r, t: ("/v1/node/requests", {})),
    ("GET", "node terms", ("node",),
     lambda h, r, t: (f"/v1/node/requests/{_submitted(h, r, t)}/terms", {})),
    ("POST", "node decision", ("node",), _decision),
    ("GET", "audit events", ("auditor",), lambda h, r, t: ("/v1/audit/events", {})),
    ("GET", "audit export", ("auditor",),
     lambda h, r, t: ("/v1/audit/events?format=csv", {})),
    ("GET", "audit checkpoints", ("auditor",), lambda h, r, t: ("/v1/audit/checkpoints", {})),
    ("POST", "audit checkpoint now", ("auditor", "admin"),
     lambda h, r, t: ("/v1/audit/checkpoints", {})),
    ("GET", "audit verify", ("auditor",), lambda h, r, t: ("/v1/audit/verify", {})),
]


@pytest.fixture(scope="module")
def tokens(module_hub: Any) -> dict[str, str]:
    hub = module_hub
    found = {role: hub.token(role, **({"agency": "K12"} if role == "steward" else {}))
             for role in USERS if role != "admin"}
    found["admin"] = hub.admin_token
    found["node"] = hub.agencies["K12"].token
    return found


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(("method", "name", "admitted", "build"), CASES,
                         ids=[c[1].replace(" ", "_") for c in CASES])
def test_endpoint_admits_exactly_its_roles(module_hub: Any, tokens: dict[str, str],
                                           principal: str, method: str, name: str,
                                           admitted: tuple[str, ...], build: Builder) -> None:
    hub = module_hub
    token = tokens.get(principal, "")
    path, kwargs = build(hub, principal, token)
    headers = hub.auth(token) if principal != "none" else {}
    if "content" in kwargs:
        headers["Content-Type"] = "application/json"
    response = hub.client.request(method, path, headers=headers, **kwargs)
    if principal in admitted:
        assert 200 <= response.status_code < 300, response.text
    elif principal == "none":
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "missing_token"
    else:
        assert response.status_code == 403, response.text
        assert response.json()["error"] in ("forbidden", "node_token_not_admitted")


@pytest.mark.parametrize("header", ["Bearer not-a-real-token-at-all", "Basic abc", "Bearer "])
def test_bad_or_malformed_token_is_401(module_hub: Any, header: str) -> None:
    response = module_hub.client.get("/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"] in ("invalid_token", "missing_token")
    assert response.headers["WWW-Authenticate"] == "Bearer"
