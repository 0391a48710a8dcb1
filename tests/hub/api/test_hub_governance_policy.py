"""Governance policy (issue 16): IRB approval is a rule, not a field, and every denial
carries a reason written for the public besides its internal one."""

from __future__ import annotations

from typing import Any

import pytest


def _pending_irb(hub: Any) -> tuple[str, str]:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(
        researcher, irb={"status": "pending", "board": "State University IRB"})
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    return researcher, request_id


def test_irb_pending_request_cannot_be_approved(hub) -> None:
    researcher, request_id = _pending_irb(hub)
    for _ in range(2):
        response = hub.review(request_id, hub.token("governance"))
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "irb_not_approved"
        assert "IRB status is 'pending'" in response.json()["detail"]
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert detail["status"] == "in_review"
    assert detail["reviews"] == []  # the refused approvals were not counted
    assert "IRB approval (the agreement says 'pending')" in detail["waiting_for"]
    # Sending it back and denying stay possible.
    sent_back = hub.review(request_id, hub.token("governance"), "request_changes",
                           "attach the IRB approval letter")
    assert sent_back.status_code == 201 and sent_back.json()["status"] == "changes_requested"


def test_irb_pending_request_can_be_denied(hub) -> None:
    _, request_id = _pending_irb(hub)
    response = hub.review(request_id, hub.token("governance"), "deny", "no IRB in sight")
    assert response.status_code == 201 and response.json()["status"] == "denied"


def test_irb_exempt_request_is_approved(hub) -> None:
    # (Approved IRB is the factories' default: every approval in the suite goes through it.)
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher, irb={
        "status": "exempt", "board": "B", "protocol_number": "EX-1",
        "approval_date": "2025-06-01"})
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    assert hub.status(request_id, researcher) == "approved"


def test_setting_off_allows_approving_an_irb_pending_request(make_hub) -> None:
    hub = make_hub(require_irb_approval=False)
    hub.enroll("K12")
    hub.enroll("HE")
    researcher, request_id = _pending_irb(hub)
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    assert hub.status(request_id, researcher) == "approved"


def _deny(hub: Any, request_id: str, **body: Any) -> Any:
    return hub.client.post(f"/v1/requests/{request_id}/reviews",
                           headers=hub.auth(hub.token("governance")),
                           json={"decision": "deny", "reason": "internal", **body})


@pytest.mark.parametrize("public_reason", [None, "", "   "])
def test_deny_without_public_reason_is_refused(hub, public_reason: str | None) -> None:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher)
    response = _deny(hub, request_id, **({} if public_reason is None
                                         else {"public_reason": public_reason}))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "public_reason_required"
    assert "public_reason" in response.json()["detail"]
    assert hub.status(request_id, researcher) == "submitted"


def test_public_reason_is_bounded(hub) -> None:
    request_id = hub.submitted_request(hub.token("researcher"))
    response = _deny(hub, request_id, public_reason="x" * 1001)
    assert response.status_code == 422
    assert _deny(hub, request_id, public_reason="x" * 1000).status_code == 201


def test_internal_reason_never_appears_publicly(hub) -> None:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher, title="Denied study")
    response = _deny(hub, request_id, reason="the PI's last project leaked data",
                     public_reason="The data asked for exceeds what the questions need.")
    assert response.status_code == 201
    # The researcher and the hub's staff read the internal reason; the public never does.
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert detail["decision_reason"] == "the PI's last project leaked data"
    public = hub.client.get("/v1/public/projects")
    assert "leaked" not in public.text
    assert public.json()["denied_requests"][0]["public_reason"] == (
        "The data asked for exceeds what the questions need.")


def test_signed_review_carries_the_public_reason_and_obeys_the_irb_rule(hub) -> None:
    members = [hub.token("governance") for _ in range(2)]
    keys, _ = hub.roster(members)
    pending = hub.submitted_request(hub.token("researcher"), irb={"status": "pending"})
    refused = hub.signed_review(pending, members[0], keys[0])
    assert refused.status_code == 409 and refused.json()["error"] == "irb_not_approved"

    request_id = hub.submitted_request(hub.token("researcher"), title="Signed denial")
    unexplained = hub.signed_review(request_id, members[0], keys[0], "deny", public_reason="")
    assert unexplained.status_code == 422
    assert unexplained.json()["error"] == "public_reason_required"
    denied = hub.signed_review(request_id, members[1], keys[1], "deny",
                               public_reason="Duplicates a study already under way.")
    assert denied.status_code == 201 and denied.json()["status"] == "denied"
    listed = hub.client.get("/v1/public/projects").json()["denied_requests"]
    assert [(d["title"], d["public_reason"]) for d in listed] == [
        ("Signed denial", "Duplicates a study already under way.")]
