"""The project page shows a denial's public reason (and the internal reason as before)."""

from __future__ import annotations

from typing import Any


def test_project_page_shows_the_public_reason_of_a_denial(web_hub: Any, browser: Any) -> None:
    researcher = web_hub.token("researcher")
    rid = web_hub.submitted_request(researcher, title="Denied on the page")
    response = web_hub.client.post(
        f"/v1/requests/{rid}/reviews", headers=web_hub.auth(web_hub.token("governance")),
        json={"decision": "deny", "reason": "Internal: security plan is thin",
              "public_reason": "The security plan did not meet the hub's standard."})
    assert response.status_code == 201, response.text
    page = browser(researcher).get(f"/projects/{rid}").text
    notice = page[page.index('id="public-reason"'):]
    assert "The security plan did not meet the hub&#39;s standard." in notice[:400]
    assert "Internal: security plan is thin" in page  # the researcher's own reason


def test_project_page_of_an_undecided_request_has_no_public_reason(web_hub: Any,
                                                                   browser: Any) -> None:
    researcher = web_hub.token("researcher")
    rid = web_hub.submitted_request(researcher)
    assert 'id="public-reason"' not in browser(researcher).get(f"/projects/{rid}").text
