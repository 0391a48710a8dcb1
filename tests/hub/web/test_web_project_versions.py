"""The project page and the review page show the agreement's versions and what the newest
one changes, field by field (docs/amendments.md)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any


def _amended(hub: Any) -> tuple[str, str, str]:
    """(project, researcher token, governance token) of an approved project whose
    researcher proposed an extension."""
    researcher = hub.token("researcher")
    today = hub.clock().date()
    end = today + dt.timedelta(days=100)
    project = hub.submitted_request(researcher, term_start=str(today - dt.timedelta(days=5)),
                                    term_end=str(end))
    hub.decide(project, "K12")
    hub.decide(project, "HE")
    governance = [hub.token("governance"), hub.token("governance")]
    for token in governance:
        hub.review(project, token)
    agreement = hub.client.get(f"/v1/requests/{project}/versions/1",
                               headers=hub.auth(researcher)).json()["agreement"]
    proposed = hub.client.post(
        f"/v1/requests/{project}/amendments", headers=hub.auth(researcher),
        json={"kind": "extension", "reason": "fieldwork ran late",
              "agreement": {**agreement, "term_end": str(end + dt.timedelta(days=60))}})
    assert proposed.status_code == 201, proposed.text
    return project, researcher, governance[0]


def test_project_page_shows_versions_and_the_proposed_change(web_hub: Any,
                                                             browser: Any) -> None:
    project, researcher, _ = _amended(web_hub)
    page = html.unescape(browser(researcher).get(f"/projects/{project}").text)
    section = page[page.index('id="versions"'):]
    assert "Amending" in page
    assert "fieldwork ran late" in section
    assert "What version 2 (extension, proposed) changes against version 1" in section
    end = web_hub.clock().date() + dt.timedelta(days=100)
    row = section[section.index('<td class="mono">term_end</td>'):][:300]
    assert f'"{end}"' in row and f'"{end + dt.timedelta(days=60)}"' in row
    assert "Stewards asked to re-approve: HE, K12" in section


def test_review_page_shows_what_the_amendment_changes(web_hub: Any, browser: Any) -> None:
    project, _, governance = _amended(web_hub)
    page = browser(governance).get(f"/review/{project}")
    assert page.status_code == 200, page.text
    assert 'id="versions"' in page.text and "term_end" in page.text


def test_project_page_of_a_never_amended_request_has_no_versions_table(
        web_hub: Any, browser: Any) -> None:
    researcher = web_hub.token("researcher")
    project = web_hub.submitted_request(researcher)
    assert 'id="versions"' not in browser(researcher).get(f"/projects/{project}").text
