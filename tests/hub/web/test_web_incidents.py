"""The incident pages: governance records an incident, contains the project (no roster:
the hub alone), reads the access report, closes it; auditors read but do not act; the
public page states it as policy says (docs/incident-response.md)."""

from __future__ import annotations

from typing import Any

from tests.hub.api.test_hub_incidents import approved_project


def test_governance_runs_an_incident_from_the_pages_and_the_public_page_states_it(
        web_hub: Any, browser: Any) -> None:
    (_, researcher), rid = approved_project(web_hub)
    governance = browser(web_hub.token("governance"))
    assert "No incident has been recorded." in governance.get("/incidents").text
    opened = governance.post("/incidents", {
        "title": "Extract e-mailed outside the project", "description": "Reported by the PI.",
        "severity": "critical", "project_id": rid, "notifiable": "1",
        "public_summary": "A linked extract was sent to a person outside a project."},
        csrf_from="/incidents")
    assert opened.status_code == 303, opened.text
    url = opened.headers["location"].split("?")[0]
    page = governance.get(opened.headers["location"]).text
    assert "The incident is recorded." in page and "Not contained yet." in page

    contained = governance.post(f"{url}/contain", {}, csrf_from=url)
    assert contained.status_code == 303, contained.text
    page = governance.get(contained.headers["location"]).text
    assert "project revoked" in page and "1 tokens revoked" in page
    assert web_hub.client.get("/v1/me", headers=web_hub.auth(researcher)).status_code == 401

    report = governance.get(f"{url}/access-report")
    assert report.status_code == 200 and 'id="access-report"' in report.text
    assert "request.revoked" in report.text and "request.submitted" in report.text

    auditor = browser(web_hub.token("auditor"))
    seen = auditor.get(url)
    assert seen.status_code == 200 and "Contain the project now" not in seen.text
    assert auditor.post(f"{url}/close", {"resolution": "x"}, csrf_from=url).status_code == 403

    # Contained, notifiable and critical: policy (default: high or worse) states it now.
    assert "<td>contained</td>" in browser().get("/public/incidents").text
    closed = governance.post(f"{url}/close", {"resolution": "Recipient deleted it."},
                             csrf_from=url)
    assert closed.status_code == 303
    assert "incident.closed" in governance.get(url).text
    public = browser().get("/public/incidents")
    assert public.status_code == 200 and "<td>closed</td>" in public.text
    assert "A linked extract was sent to a person outside a project." in public.text
    assert "Extract e-mailed" not in public.text  # the internal title stays internal


def test_researcher_cannot_open_the_incident_pages(web_hub: Any, browser: Any) -> None:
    researcher = browser(web_hub.token("researcher"))
    assert researcher.get("/incidents").status_code == 403
