"""Public transparency: approved projects and denied requests with their public reasons,
without login and without personal data; nothing still in draft or review."""

from __future__ import annotations

import pytest


def _approve(hub, request_id):
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    hub.review(request_id, hub.token("governance", name="Gail Governor"))
    hub.review(request_id, hub.token("governance", name="Gus Governor"))


def test_public_list_shows_approved_and_denied_without_personal_data(hub) -> None:
    researcher = hub.token("researcher", name="Ada Researcher", email="ada@uni.example")
    approved = hub.submitted_request(researcher, title="Approved study")
    _approve(hub, approved)
    denied = hub.submitted_request(researcher, title="Denied with IRB")
    hub.decide(denied, "K12", "deny", reason="Kay Twelve says the cohort is too small")
    denied_no_irb = hub.submitted_request(
        researcher, title="Denied without IRB", irb={"status": "pending"})
    hub.review(denied_no_irb, hub.token("governance"), "deny", "Gail thinks no IRB")
    in_review = hub.submitted_request(researcher, title="Still in review")
    hub.review(in_review, hub.token("governance"))
    hub.create_request(researcher, title="Only a draft")

    response = hub.client.get("/v1/public/projects")
    assert response.status_code == 200
    body = response.json()
    assert [p["title"] for p in body["approved_projects"]] == ["Approved study"]
    project = body["approved_projects"][0]
    assert project["institution"] == "State University"
    assert [a["agency"] for a in project["agencies"]] == ["K12", "HE"]
    assert project["agencies"][0]["variable_categories"] == ["confidential", "internal"]
    assert (project["term_start"], project["term_end"]) == ("2026-01-01", "2027-12-31")
    assert [(d["title"], d["denied_by"], d["public_reason"])
            for d in body["denied_requests"]] == [
        ("Denied with IRB", "agency",
         "The data steward of K12 declined to provide the requested data."),
        ("Denied without IRB", "governance", "public: deny because")]
    stats = body["statistics"]
    assert stats["requests_submitted"] == 4
    assert stats["by_status"] == {"approved": 1, "denied": 2, "in_review": 1}
    assert stats["decisions"] == 3 and stats["median_days_to_decision"] == 0.0
    assert body["contact"] == "the data governance office"

    text = response.text
    for secret in ("Ada", "ada@uni.example", "Kay Twelve", "kay@k12.example", "Gail",
                   "Gus", "flu_", "fln_", "Still in review", "Only a draft",
                   "thinks no IRB", "cohort is too small", "Encrypted workstation",
                   "researcher_id", "project_salt"):
        assert secret not in text, secret


def test_public_list_needs_no_login_and_is_empty_at_first(hub) -> None:
    body = hub.client.get("/v1/public/projects").json()
    assert body["approved_projects"] == [] and body["statistics"]["requests_submitted"] == 0
    assert body["statistics"]["median_days_to_decision"] is None


def _denied(hub, researcher: str, title: str) -> str:
    request_id = hub.submitted_request(researcher, title=title)
    assert hub.decide(request_id, "K12", "deny").status_code == 200
    return request_id


def test_public_list_pages_by_limit_and_offset_with_a_next_link(hub) -> None:
    researcher = hub.token("researcher")
    for n in range(3):
        _denied(hub, researcher, f"Denied {n}")
    hub.submitted_request(researcher, title="Still in review")

    first = hub.client.get("/v1/public/projects", params={"limit": 2}).json()
    assert [d["title"] for d in first["denied_requests"]] == ["Denied 0", "Denied 1"]
    assert first["page"] == {"limit": 2, "offset": 0, "next_offset": 2,
                             "next": "/v1/public/projects?limit=2&offset=2"}
    # Pages are filtered in SQL: the request still in review takes no place on them.
    last = hub.client.get(first["page"]["next"]).json()
    assert [d["title"] for d in last["denied_requests"]] == ["Denied 2"]
    assert last["page"]["next_offset"] is None and last["page"]["next"] is None
    assert last["statistics"] == first["statistics"]  # over every request, on every page
    assert first["statistics"]["by_status"] == {"denied": 3, "submitted": 1}


def test_public_list_default_page_is_100(hub) -> None:
    page = hub.client.get("/v1/public/projects").json()["page"]
    assert page == {"limit": 100, "offset": 0, "next_offset": None, "next": None}


@pytest.mark.parametrize("params", [
    {"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"offset": -1}, {"offset": 1_000_001},
    {"offset": 10**30},
])
def test_public_list_bad_page_values_refused_422(hub, params) -> None:
    response = hub.client.get("/v1/public/projects", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request" and next(iter(params)) in body["detail"]
