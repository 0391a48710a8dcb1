"""The whole governance path through the API: draft → submit → agencies and a quorum
approve → approved with a salt and a term; visible on the public list."""

from __future__ import annotations


def test_request_approved_by_all_agencies_and_quorum(hub) -> None:
    researcher = hub.token("researcher", email="ada@uni.example")
    g1, g2 = hub.token("governance"), hub.token("governance")
    request_id = hub.submitted_request(researcher)
    assert hub.decide(request_id, "K12").status_code == 200
    assert hub.status(request_id, researcher) == "in_review"
    assert hub.decide(request_id, "HE").status_code == 200
    assert hub.review(request_id, g1).status_code == 201
    assert hub.status(request_id, researcher) == "in_review"
    response = hub.review(request_id, g2)
    assert response.status_code == 201, response.text
    detail = response.json()
    assert detail["status"] == "approved"
    assert detail["approved_term"] == {"start": "2026-01-01", "end": "2027-12-31"}
    public = hub.client.get("/v1/public/projects").json()
    assert [p["id"] for p in public["approved_projects"]] == [request_id]
    assert hub.client.get("/v1/requests", headers=hub.auth(researcher)).status_code == 200
