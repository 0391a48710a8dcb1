"""The project's reports page: stewards read, comment and object; the public page shows a
report only once released after the review window."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.hub.api.test_hub_findings import PDF, approved_project, upload

TITLE = "Interim findings"


def _setup(web_hub: Any, **overrides: Any) -> tuple[str, str, str]:
    researcher, rid = approved_project(web_hub, **overrides)
    report = upload(web_hub, researcher, rid, deliverable="Interim report")
    assert report.status_code == 201, report.text
    return researcher, rid, report.json()["id"]


def test_steward_reads_and_objects_public_page_waits_for_release(web_hub, browser) -> None:
    researcher, rid, report_id = _setup(web_hub, findings_review_days=14)
    steward_token = web_hub.token("steward", agency="K12")
    steward = browser(steward_token)
    page = steward.get(f"/projects/{rid}/findings")
    assert page.status_code == 200, page.text
    assert TITLE in page.text and "may object until" in page.text
    assert "Interim report</td><td>interim</td><td>2026-06-30</td>" in page.text
    file = steward.get(f"/projects/{rid}/findings/{report_id}/file")
    assert file.status_code == 200 and file.content == PDF
    posted = steward.post(f"/projects/{rid}/findings/{report_id}/comments",
                          {"kind": "objection", "text": "Cell of 3 in table 2."},
                          csrf_from=f"/projects/{rid}/findings")
    assert posted.status_code == 303
    page = steward.get(posted.headers["location"]).text
    assert "Your objection is recorded" in page and "Cell of 3 in table 2." in page
    assert "Withdraw this objection" in page
    public = browser().get("/public").text
    assert TITLE not in public and "No report of this project has been released yet." in public

    web_hub.clock.offset += dt.timedelta(days=15)
    mine = browser(researcher)
    page = mine.get(f"/projects/{rid}/findings").text
    assert "1 objection stands, so it cannot be released" in page
    assert "Release to the public" not in page
    refused = mine.post(f"/projects/{rid}/findings/{report_id}/release", {},
                        csrf_from=f"/projects/{rid}/findings")
    assert refused.status_code == 409 and "objection" in refused.text
    assert TITLE not in browser().get("/public").text

    steward = browser(steward_token)  # a new sign-in: web sessions end after idle hours
    withdrawn = steward.post(
        f"/projects/{rid}/findings/{report_id}/comments/1/withdraw", {},
        csrf_from=f"/projects/{rid}/findings")
    assert withdrawn.status_code == 303
    assert "Release to the public" in mine.get(f"/projects/{rid}/findings").text
    released = mine.post(f"/projects/{rid}/findings/{report_id}/release", {},
                         csrf_from=f"/projects/{rid}/findings")
    assert released.status_code == 303
    public = browser().get("/public").text
    assert TITLE in public and f"/v1/public/findings/{report_id}" in public


def test_steward_of_agency_not_in_project_gets_404(web_hub, browser) -> None:
    web_hub.enroll("WF", [{"name": "wage", "type": "number", "years": [2020],
                           "classification": "confidential"}])
    _, rid, report_id = _setup(web_hub)
    outsider = browser(web_hub.token("steward", agency="WF"))
    page = outsider.get(f"/projects/{rid}/findings")
    assert page.status_code == 404 and TITLE not in page.text
    assert outsider.get(f"/projects/{rid}/findings/{report_id}/file").status_code == 404


def test_objection_form_without_csrf_token_is_refused(web_hub, browser) -> None:
    _, rid, report_id = _setup(web_hub)
    steward = browser(web_hub.token("steward", agency="HE"))
    response = steward.post(f"/projects/{rid}/findings/{report_id}/comments",
                            {"kind": "objection", "text": "No token."})
    assert response.status_code == 403
    assert "No token." not in steward.get(f"/projects/{rid}/findings").text


def test_report_of_another_project_is_not_reachable_through_this_one(web_hub, browser) -> None:
    _, _, report_id = _setup(web_hub)
    other_researcher, other = approved_project(web_hub)
    mine = browser(other_researcher)
    assert mine.get(f"/projects/{other}/findings/{report_id}/file").status_code == 404
