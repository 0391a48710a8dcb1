"""The web review page cannot approve without a member's signature once a governance
roster exists: the browser holds no member key, so approvals go through
``fedlink review approve --key-file``; denying or sending back still works on the page."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.governance import new_roster, sign_statement
from protocol.keyfiles import public_key_to_b64


def _roster(hub: Any) -> None:
    keys = [Ed25519PrivateKey.generate() for _ in range(2)]
    token = hub.token("governance")
    for key in keys:
        member = hub.token("governance")
        response = hub.client.post("/v1/governance/keys", headers=hub.auth(member),
                                   json={"public_key": public_key_to_b64(key.public_key())})
        assert response.status_code == 201
    roster = new_roster((("m", k.public_key()) for k in keys), quorum=2)
    body = {"signatures": [sign_statement(roster, k).model_dump(mode="json") for k in keys]}
    response = hub.client.post("/v1/governance/roster", headers=hub.auth(token),
                               content=json.dumps(body))
    assert response.status_code == 201, response.text


def test_web_approval_refused_without_a_signature_once_a_roster_exists(
    web_hub, browser, audit_events
) -> None:
    _roster(web_hub)
    researcher = web_hub.token("researcher", email="ada@uni.example")
    rid = web_hub.submitted_request(researcher)
    b = browser(web_hub.token("governance"))
    response = b.post(f"/review/{rid}", {"decision": "approve", "reason": ""},
                      csrf_from=f"/review/{rid}")
    assert response.status_code == 409
    assert "fedlink review approve" in response.text
    assert web_hub.status(rid, researcher) == "submitted"
    refused = audit_events(action="request.review_refused")
    assert [e["outcome"] for e in refused] == ["refused:signature_required"]
    sent_back = b.post(f"/review/{rid}", {"decision": "request_changes", "reason": "more"},
                       csrf_from=f"/review/{rid}")
    assert sent_back.status_code == 303
