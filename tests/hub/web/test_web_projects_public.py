"""Researchers' project pages and the public transparency pages."""

from __future__ import annotations

import pytest

from hub.errors import ConfigError
from hub.settings import HubSettings

XSS = "<script>alert(1)</script>"


def _approve(hub, rid: str) -> None:
    for agency in ("K12", "HE"):
        assert hub.decide(rid, agency).status_code == 200
    for _ in range(2):
        assert hub.review(rid, hub.token("governance")).status_code == 201


def test_project_page_shows_timeline_term_and_no_run_yet(web_hub, browser) -> None:
    researcher = web_hub.token("researcher")
    rid = web_hub.submitted_request(researcher)
    _approve(web_hub, rid)
    page = browser(researcher).get(f"/projects/{rid}").text
    steps = ["Drafted", "Submitted for review", "Review started",
             "Agency HE approved (signed on its node)", "A governance member approved",
             "Approved"]
    timeline = page[page.index('id="timeline-title"'):page.index('id="term-title"')]
    positions = [timeline.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "2026-01-01 to 2027-12-31" in page
    assert "No linkage run yet." in page and "No extract yet" in page
    assert "No output has been submitted" in page
    assert "<th scope=\"col\">Member</th>" not in page  # reviewers are not named to researchers


def test_project_page_days_left_counts_down_to_the_term_end(web_hub, browser) -> None:
    researcher = web_hub.token("researcher")
    rid = web_hub.submitted_request(researcher, term_start="2026-01-01", term_end="2099-12-31")
    _approve(web_hub, rid)
    days = (web_hub.clock().date().replace(year=2099, month=12, day=31)
            - web_hub.clock().date()).days
    assert f"<strong>{days} days left</strong>" in browser(researcher).get(
        f"/projects/{rid}").text


def test_changes_requested_shows_the_reason_to_the_researcher(web_hub, browser) -> None:
    researcher = web_hub.token("researcher")
    rid = web_hub.submitted_request(researcher)
    web_hub.review(rid, web_hub.token("governance"), "request_changes", "Narrow the years")
    page = browser(researcher).get(f"/projects/{rid}").text
    assert "Changes requested:</strong>" in page and "Narrow the years" in page
    assert "Records are linked only after the request is approved." in page


def test_researcher_cannot_open_another_researchers_project(web_hub, browser) -> None:
    rid = web_hub.submitted_request(web_hub.token("researcher"))
    other = browser(web_hub.token("researcher"))
    response = other.get(f"/projects/{rid}")
    assert response.status_code == 404 and "Early grades" not in response.text
    assert rid not in other.get("/projects").text


def test_public_page_needs_no_signin_and_shows_approved_projects(make_hub, browser) -> None:
    hub = make_hub(web_cookie_secure=False, public_contact_name="Pat Doe",
                   public_contact_title="Chief Privacy Officer",
                   public_contact_email="pat.doe@state.example")
    hub.enroll("K12")
    hub.enroll("HE")
    approved = hub.submitted_request(hub.token("researcher"), title=f"Approved {XSS}")
    _approve(hub, approved)
    hub.submitted_request(hub.token("researcher"), title="Still under review")
    page = browser(hub=hub).get("/public")
    assert page.status_code == 200
    text = page.text
    assert "Approved &lt;script&gt;alert(1)&lt;/script&gt;" in text and XSS not in text
    assert "Still under review" not in text
    assert "<td>K12 agency (K12)</td><td>confidential, internal</td><td>2</td>" in text
    assert "Dr Ada Researcher" not in text and "ada@uni.example" not in text
    assert "Encrypted workstation" not in text  # the security plan is not public
    assert "No output of this project has been released yet." in text
    assert "<strong>Pat Doe</strong>, Chief Privacy Officer" in text
    assert 'href="mailto:pat.doe@state.example"' in text
    assert "is the median time from a request's first submission" in text


def test_public_page_lists_an_agency_denial_without_its_internal_reason(web_hub,
                                                                        browser) -> None:
    rid = web_hub.submitted_request(web_hub.token("researcher"), title="Denied study")
    web_hub.decide(rid, "K12", "deny", reason="Steward Sam thinks no")
    text = browser().get("/public").text
    assert "Denied study" in text and "an agency whose data was asked for" in text
    assert "The data steward of K12 declined to provide the requested data." in text
    assert "Steward Sam" not in text


def test_denial_public_reason_appears_on_the_public_page(web_hub, browser) -> None:
    researcher = web_hub.token("researcher")
    rid = web_hub.submitted_request(researcher, title="Study denied in public")
    response = web_hub.client.post(
        f"/v1/requests/{rid}/reviews", headers={"Authorization":
                                                f"Bearer {web_hub.token('governance')}"},
        json={"decision": "deny", "reason": "Reviewer Rita: PI Ada is under investigation",
              "public_reason": "The questions can be answered with published tables."})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "denied"
    public = "The questions can be answered with published tables."

    body = web_hub.client.get("/v1/public/projects")
    assert [(d["title"], d["denied_by"], d["public_reason"])
            for d in body.json()["denied_requests"]] == [
        ("Study denied in public", "governance", public)]
    page = browser().get("/public").text
    assert "Study denied in public" in page and public in page
    for text in (body.text, page):  # the internal reason never reaches the public
        assert "under investigation" not in text and "Rita" not in text


def test_public_page_without_a_named_contact_says_so(web_hub, browser) -> None:
    text = browser().get("/public").text
    assert "has not yet named the person who" in text
    assert "No project has been approved yet." in text


def test_privacy_page_explains_in_plain_language_with_quorums(web_hub, browser) -> None:
    text = browser().get("/public/privacy").text
    assert "<h1>How data is protected</h1>" in text
    assert "<tr><td>restricted</td><td>The most sensitive" in text
    assert "</td><td>3</td></tr>" in text and "</td><td>2</td></tr>" in text


def test_public_json_names_the_contact_person(make_hub) -> None:
    hub = make_hub(public_contact_name="Pat Doe", public_contact_email="pat.doe@state.example")
    body = hub.client.get("/v1/public/projects").json()
    assert body["contact_person"] == {"name": "Pat Doe", "title": "",
                                      "email": "pat.doe@state.example"}


@pytest.mark.parametrize("overrides, message", [
    ({"web_cookie_secure": False, "host": "0.0.0.0"}, "allowed only on a loopback host"),
    ({"public_contact_name": "Pat Doe"}, "go together"),
    ({"public_contact_name": "Pat", "public_contact_email": "not-an-address"},
     "not an email address"),
])
def test_unsafe_web_settings_stop_the_hub(tmp_path, overrides, message) -> None:
    with pytest.raises(ConfigError, match=message):
        HubSettings.load(tmp_path, **overrides)


def test_project_page_lists_a_queued_linkage_run(web_hub, browser) -> None:
    researcher = web_hub.token("researcher")
    rid = web_hub.submitted_request(researcher)
    _approve(web_hub, rid)
    started = web_hub.client.post(f"/v1/requests/{rid}/runs",
                                  headers=web_hub.auth(web_hub.token("governance")))
    assert started.status_code == 202, started.text
    page = browser(researcher).get(f"/projects/{rid}").text
    runs = page[page.index('id="runs-title"'):page.index('id="extract-title"')]
    assert f'<td class="mono">{started.json()["id"]}</td><td>queued</td>' in runs
    assert "No linkage run yet." not in runs and "Quality of run" not in runs
    assert "Linkage run started" in page  # the timeline


def test_public_page_pages_like_the_json(web_hub, browser) -> None:
    researcher = web_hub.token("researcher")
    for title in ("First denied", "Second denied"):
        rid = web_hub.submitted_request(researcher, title=title)
        assert web_hub.decide(rid, "K12", "deny").status_code == 200
    client = browser()
    first = client.get("/public?limit=1").text
    assert "First denied" in first and "Second denied" not in first
    assert 'href="/public?limit=1&amp;offset=1">Next page</a>' in first
    second = client.get("/public?limit=1&offset=1").text
    assert "Second denied" in second and "Next page" not in second
    assert 'href="/public?limit=1">First page</a>' in second
    assert "Next page" not in client.get("/public").text


def test_public_page_bad_page_values_show_a_422_page(web_hub, browser) -> None:
    response = browser().get("/public?limit=501")
    assert response.status_code == 422 and "Check what you entered" in response.text
