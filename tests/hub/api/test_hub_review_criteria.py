"""The review checklist (docs/governance-policy.md): an approval answers every criterion of
the hub's ``review_criteria`` as met, denials and requests for changes record what was
assessed, and the answers are kept with the review — signed ones inside the signed decision."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.settings import DEFAULT_CRITERIA


def _request(hub: Any) -> tuple[str, str]:
    researcher = hub.token("researcher", email="ada@uni.example")
    request_id = hub.submitted_request(researcher)
    assert hub.decide(request_id, "K12").status_code == 200
    assert hub.decide(request_id, "HE").status_code == 200
    return researcher, request_id


def _events(hub: Any, action: str) -> list[dict[str, Any]]:
    response = hub.client.get("/v1/audit/events", params={"action": action, "limit": 100},
                              headers=hub.auth(hub.token("auditor")))
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    return dict(response.json())


def _detail(hub: Any, request_id: str, token: str) -> dict[str, Any]:
    response = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_approval_without_criteria_refused_and_audited(hub) -> None:
    researcher, request_id = _request(hub)
    body = _error(hub.review(request_id, hub.token("governance"), criteria=[]),
                  422, "criteria_incomplete")
    assert all(cid in body["detail"] for cid, _ in DEFAULT_CRITERIA)
    assert _detail(hub, request_id, researcher)["reviews"] == []
    refused = _events(hub, "request.review_refused")
    assert [e["detail"]["code"] for e in refused] == ["criteria_incomplete"]
    assert _events(hub, "request.reviewed") == []


def test_approval_with_one_criterion_not_met_refused(hub) -> None:
    _, request_id = _request(hub)
    criteria = hub.criteria()
    criteria[1] = {"id": criteria[1]["id"], "met": False, "note": "asks ten years"}
    body = _error(hub.review(request_id, hub.token("governance"), criteria=criteria),
                  422, "criteria_incomplete")
    assert f"not met: {criteria[1]['id']}" in body["detail"]


def test_approval_missing_one_criterion_refused(hub) -> None:
    _, request_id = _request(hub)
    body = _error(hub.review(request_id, hub.token("governance"),
                             criteria=hub.criteria()[:-1]), 422, "criteria_incomplete")
    assert f"not answered: {DEFAULT_CRITERIA[-1][0]}" in body["detail"]


def test_unknown_repeated_or_unexplained_criteria_refused(hub) -> None:
    _, request_id = _request(hub)
    token = hub.token("governance")
    unknown = [*hub.criteria(), {"id": "astrology", "met": True}]
    _error(hub.review(request_id, token, criteria=unknown), 422, "unknown_criterion")
    repeated = [*hub.criteria(), hub.criteria()[0]]
    _error(hub.review(request_id, token, criteria=repeated), 422, "unknown_criterion")
    silent = [{"id": "irb", "met": False}]
    _error(hub.review(request_id, token, "deny", criteria=silent), 422,
           "criterion_note_required")
    # None of it recorded a review: the member still approves once, with the checklist.
    assert hub.review(request_id, token).status_code == 201


def test_criteria_recorded_with_each_review_and_shown(hub) -> None:
    researcher, request_id = _request(hub)
    criteria = hub.criteria()
    criteria[0]["note"] = "Answers an agenda question"
    assert hub.review(request_id, hub.token("governance", name="Gail"),
                      criteria=criteria).status_code == 201
    review = _detail(hub, request_id, hub.token("governance"))["reviews"][0]
    assert review["reviewer"] == "Gail"
    assert [(c["id"], c["met"]) for c in review["criteria"]] == [
        (cid, True) for cid, _ in DEFAULT_CRITERIA]
    assert review["criteria"][0]["text"] == DEFAULT_CRITERIA[0][1]
    assert review["criteria"][0]["note"] == "Answers an agenda question"
    # The researcher reads the criteria too (not the reviewer's name).
    mine = _detail(hub, request_id, researcher)["reviews"][0]
    assert mine["reviewer"] is None and len(mine["criteria"]) == len(DEFAULT_CRITERIA)
    reviewed = _events(hub, "request.reviewed")
    assert reviewed[0]["detail"]["criteria"] == {cid: True for cid, _ in DEFAULT_CRITERIA}


def test_denial_records_the_criteria_assessed(hub) -> None:
    researcher, request_id = _request(hub)
    assessed = [{"id": "minimum_necessary", "met": False, "note": "Ten years for one question"},
                {"id": "irb", "met": True}]
    assert hub.review(request_id, hub.token("governance"), "deny",
                      criteria=assessed).status_code == 201
    detail = _detail(hub, request_id, researcher)
    assert detail["status"] == "denied"
    assert [(c["id"], c["met"], c["note"]) for c in detail["reviews"][0]["criteria"]] == [
        ("minimum_necessary", False, "Ten years for one question"), ("irb", True, "")]


def test_request_changes_with_a_criterion_not_met(hub) -> None:
    researcher, request_id = _request(hub)
    assessed = [{"id": "security_plan", "met": False, "note": "No encryption at rest"}]
    assert hub.review(request_id, hub.token("governance"), "request_changes",
                      criteria=assessed).status_code == 201
    detail = _detail(hub, request_id, researcher)
    assert detail["status"] == "changes_requested"
    assert detail["reviews"][0]["criteria"][0]["note"] == "No encryption at rest"


def test_the_governance_body_defines_its_own_checklist(make_hub) -> None:
    hub = make_hub(review_criteria=[{"id": "equity", "text": "Benefits every community"}])
    hub.enroll("K12")
    hub.enroll("HE")
    _, request_id = _request(hub)
    token = hub.token("governance")
    default = [{"id": cid, "met": True} for cid, _ in DEFAULT_CRITERIA]
    _error(hub.review(request_id, token, criteria=default), 422, "unknown_criterion")
    assert hub.review(request_id, token, criteria=[{"id": "equity", "met": True}]
                      ).status_code == 201
    policy = hub.client.get("/v1/review-policy", headers=hub.auth(token)).json()
    assert policy["review_criteria"] == [{"id": "equity", "text": "Benefits every community"}]


def test_review_policy_lists_checklist_quorum_and_requester_rules(hub) -> None:
    policy = hub.client.get("/v1/review-policy",
                            headers=hub.auth(hub.token("researcher"))).json()
    assert [c["id"] for c in policy["review_criteria"]] == [c for c, _ in DEFAULT_CRITERIA]
    assert policy["governance_quorum"] == 2 and policy["require_irb_approval"] is True
    assert policy["requester_rules"]["vendor"] == {
        "extra_quorum": 1, "record_level_extract": False, "agency_member": False}


# --- signed reviews: the answers are inside the signed decision -----------------------


def _governed(hub: Any) -> tuple[list[str], list[Ed25519PrivateKey]]:
    tokens = [hub.token("governance") for _ in range(2)]
    keys, _ = hub.roster(tokens)
    return tokens, keys


def test_signed_approval_carries_its_criteria(hub) -> None:
    tokens, keys = _governed(hub)
    researcher, request_id = _request(hub)
    for token, key in zip(tokens, keys, strict=True):
        assert hub.signed_review(request_id, token, key).status_code == 201
    detail = _detail(hub, request_id, researcher)
    assert detail["status"] == "approved"
    assert all(len(r["criteria"]) == len(DEFAULT_CRITERIA) and all(
        c["met"] for c in r["criteria"]) for r in detail["reviews"])


def test_signed_approval_without_criteria_refused(hub) -> None:
    tokens, keys = _governed(hub)
    _, request_id = _request(hub)
    _error(hub.signed_review(request_id, tokens[0], keys[0], criteria=[]), 422,
           "criteria_incomplete")
    # The API's own criteria cannot stand in for the signed ones: an approval must be
    # signed once a roster exists.
    _error(hub.review(request_id, tokens[0]), 409, "signature_required")


def test_signed_denial_records_its_criteria(hub) -> None:
    tokens, keys = _governed(hub)
    researcher, request_id = _request(hub)
    assessed = [{"id": "disclosure_risk", "met": False, "note": "Small cells published"}]
    assert hub.signed_review(request_id, tokens[0], keys[0], "deny",
                             criteria=assessed).status_code == 201
    detail = _detail(hub, request_id, researcher)
    assert detail["status"] == "denied"
    assert detail["reviews"][0]["criteria"] == [{
        "id": "disclosure_risk", "text": dict(DEFAULT_CRITERIA)["disclosure_risk"],
        "met": False, "note": "Small cells published"}]
