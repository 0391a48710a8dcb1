"""Requester types and their rules (docs/governance-policy.md): a vendor's request needs one
more governance approval and gets no record-level extract; an agency staff member's request
must come from an account of an agency it asks data of; a researcher's is as before."""

from __future__ import annotations

from typing import Any


def _researcher(hub: Any, *, institution: str | None = None,
                email: str = "ada@uni.example") -> str:
    """A researcher account whose institution (set by whoever invites) is ``institution``."""
    body: dict[str, Any] = {"name": "Ada", "role": "researcher", "email": email}
    if institution is not None:
        body["institution"] = institution
    invited = hub.client.post("/v1/invitations", json=body, headers=hub.auth(hub.admin_token))
    assert invited.status_code == 201, invited.text
    redeemed = hub.client.post("/v1/invitations/redeem", json={"code": invited.json()["code"]})
    assert redeemed.status_code == 201, redeemed.text
    return str(redeemed.json()["token"])


def _error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


def _agencies_approve(hub: Any, request_id: str) -> None:
    for agency in ("K12", "HE"):
        assert hub.decide(request_id, agency).status_code == 200


def test_vendor_request_needs_one_more_governance_approval(hub) -> None:
    researcher = _researcher(hub)
    request_id = hub.submitted_request(researcher, requester_type="vendor")
    _agencies_approve(hub, request_id)
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert detail["status"] == "in_review"
    assert detail["waiting_for"] == ["1 more governance approval(s)"]
    assert hub.review(request_id, hub.token("governance")).json()["status"] == "approved"


def test_researcher_request_keeps_the_quorum_of_two(hub) -> None:
    researcher = _researcher(hub)
    request_id = hub.submitted_request(researcher)
    _agencies_approve(hub, request_id)
    hub.review(request_id, hub.token("governance"))
    assert hub.review(request_id, hub.token("governance")).json()["status"] == "approved"


def test_vendor_project_gets_no_record_level_extract(hub) -> None:
    researcher = _researcher(hub)
    request_id = hub.submitted_request(researcher, requester_type="vendor")
    _agencies_approve(hub, request_id)
    for _ in range(3):
        hub.review(request_id, hub.token("governance"))
    assert hub.status(request_id, researcher) == "approved"
    response = hub.client.post("/v1/extracts", json={"project_id": request_id},
                               headers=hub.auth(researcher))
    _error(response, 403, "record_level_not_allowed")
    events = hub.client.get("/v1/audit/events", params={"project": request_id},
                            headers=hub.auth(hub.token("auditor"))).json()["events"]
    assert any(e["detail"].get("code") == "record_level_not_allowed" for e in events)


def test_vendor_extract_allowed_when_the_policy_says_so(make_hub) -> None:
    hub = make_hub(requester_rules={"vendor": {"extra_quorum": 0, "record_level_extract": True,
                                               "agency_member": False}})
    hub.enroll("K12")
    hub.enroll("HE")
    researcher = _researcher(hub)
    request_id = hub.submitted_request(researcher, requester_type="vendor")
    _agencies_approve(hub, request_id)
    for _ in range(2):
        hub.review(request_id, hub.token("governance"))
    assert hub.status(request_id, researcher) == "approved"  # no extra approval either
    response = hub.client.post("/v1/extracts", json={"project_id": request_id},
                               headers=hub.auth(researcher))
    _error(response, 409, "project_not_ready")  # the usual rule, not the vendor one


def test_agency_staff_request_from_outside_the_agencies_refused(hub) -> None:
    outsider = _researcher(hub, institution="State University")
    response = hub.client.post("/v1/requests", headers=hub.auth(outsider),
                               json=hub.agreement(requester_type="agency_staff"))
    _error(response, 422, "requester_type_not_allowed")
    unset = _researcher(hub, email="bo@uni.example")
    response = hub.client.post("/v1/requests", headers=hub.auth(unset),
                               json=hub.agreement(requester_type="agency_staff"))
    _error(response, 422, "requester_type_not_allowed")


def test_agency_staff_request_from_an_agency_asked_accepted(hub) -> None:
    by_code = _researcher(hub, institution="K12")
    assert hub.submitted_request(by_code, requester_type="agency_staff")
    by_name = _researcher(hub, institution="HE agency", email="he@he.example")
    assert hub.submitted_request(by_name, requester_type="agency_staff")


def test_switching_to_agency_staff_by_edit_is_checked_too(hub) -> None:
    outsider = _researcher(hub, institution="State University")
    request_id = hub.create_request(outsider)
    response = hub.client.patch(f"/v1/requests/{request_id}", headers=hub.auth(outsider),
                                json={"requester_type": "agency_staff"})
    _error(response, 422, "requester_type_not_allowed")


def test_unknown_requester_type_refused(hub) -> None:
    response = hub.client.post("/v1/requests", headers=hub.auth(_researcher(hub)),
                               json=hub.agreement(requester_type="consultant"))
    _error(response, 422, "invalid_request")
