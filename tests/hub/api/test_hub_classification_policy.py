"""Protection by classification through the API (docs/classification.md): the rules are
part of the published review policy, a restricted variable needs the restricted quorum, and
no record-level extract of it is even queued, whatever the project's state."""

from __future__ import annotations

from typing import Any

WITH_DISABILITY = [
    {"agency": "K12", "variables": ["grade", "disability"], "first_year": 2018,
     "last_year": 2020},
    {"agency": "HE", "variables": ["enrolled"], "first_year": 2018, "last_year": 2020},
]


def _approved(hub: Any, researcher: str, approvals: int, **overrides: Any) -> str:
    request_id = hub.submitted_request(researcher, **overrides)
    for agency in ("K12", "HE"):
        assert hub.decide(request_id, agency).status_code == 200
    for _ in range(approvals):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    return str(request_id)


def test_review_policy_publishes_the_classification_rules(hub: Any) -> None:
    policy = hub.client.get("/v1/review-policy",
                            headers=hub.auth(hub.token("researcher"))).json()
    assert policy["classification_rules"]["restricted"] == {
        "min_k": 0, "l_diversity": 0, "t_closeness": 0.0, "record_level_download": False,
        "quorum": 3}
    assert policy["classification_rules"]["confidential"]["record_level_download"] is True
    assert policy["quorum_by_classification"] == {"restricted": 3}


def test_restricted_variable_needs_the_restricted_quorum(hub: Any) -> None:
    researcher = hub.token("researcher", email="ada@uni.example")
    request_id = _approved(hub, researcher, 2, variables=WITH_DISABILITY)
    assert hub.status(request_id, researcher) == "in_review"
    assert hub.review(request_id, hub.token("governance")).json()["status"] == "approved"


def test_no_record_level_extract_of_a_restricted_variable_is_queued(hub: Any) -> None:
    researcher = hub.token("researcher", email="ada@uni.example")
    request_id = _approved(hub, researcher, 3, variables=WITH_DISABILITY)
    asked = hub.client.post("/v1/extracts", json={"project_id": request_id},
                            headers=hub.auth(researcher))
    assert (asked.status_code, asked.json()["error"]) == (403, "record_level_not_allowed")
    assert "K12.disability (restricted)" in asked.json()["detail"]
    events = hub.client.get("/v1/audit/events", params={"project": request_id},
                            headers=hub.auth(hub.token("auditor"))).json()["events"]
    refused = [e for e in events if e["action"] == "extract.refused"]
    assert [e["detail"].get("code") for e in refused] == ["record_level_not_allowed"]
    # Without the restricted variable the refusal is about the project, not the data.
    narrowed = hub.client.post("/v1/extracts", headers=hub.auth(researcher), json={
        "project_id": request_id, "variables": {"K12": ["grade"], "HE": ["enrolled"]}})
    assert (narrowed.status_code, narrowed.json()["error"]) == (409, "project_not_ready")


def test_a_hub_may_tune_the_levels(make_hub: Any) -> None:
    hub = make_hub(classification_rules={
        "restricted": {"record_level_download": False, "quorum": 4, "min_k": 10}})
    policy = hub.client.get("/v1/review-policy",
                            headers=hub.auth(hub.token("researcher"))).json()
    assert policy["classification_rules"]["restricted"]["min_k"] == 10
    assert policy["quorum_by_classification"] == {"restricted": 4}
