"""The reports page in a real browser (Chromium, a real ``fedlink hub serve``; fixtures of
tests/hub/web/test_web_browser.py): the steward objects and withdraws, the researcher
releases, the public page shows the report only then."""

from __future__ import annotations

import base64

import pytest

from hub.settings import HubSettings
from tests.hub.web.test_web_browser import (  # noqa: F401 - fixtures used by name
    ServedHub,
    _screenshot,
    _sign_in,
    chromium,
    new_page,
    served,
)

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.7\n% findings for the agencies\n%%EOF\n"


def _approved_with_report(hub: ServedHub, *, title: str, review_days: int) -> tuple[str, str]:
    rid = hub.submitted_request(title=title, findings_review_days=review_days, deliverables=[
        {"title": "Interim report", "kind": "interim", "due": "2099-01-31"}])
    for agency in ("K12", "HE"):
        hub.agency_approves(rid, agency)
    # An approval answers the hub's whole review checklist (docs/governance-policy.md).
    checklist = [{"id": c.id, "met": True, "note": ""}
                 for c in HubSettings.load(hub.hub_dir).review_criteria]
    for member in ("governance1", "governance2"):
        hub.api("POST", f"/v1/requests/{rid}/reviews", hub.tokens[member],
                json={"decision": "approve", "reason": "", "criteria": checklist})
    report = hub.api("POST", "/v1/findings", hub.tokens["researcher"], json={
        "project_id": rid, "title": f"{title}: interim report", "kind": "interim",
        "deliverable": "Interim report", "filename": "interim.pdf",
        "content_type": "application/pdf", "content_base64": base64.b64encode(PDF).decode()})
    return rid, report["id"]


def test_steward_objects_and_withdraws_researcher_releases_in_the_browser(served, new_page):  # noqa: F811
    rid, _ = _approved_with_report(served, title="Reading and enrolment", review_days=30)
    steward = new_page()
    _sign_in(steward, served, served.tokens["steward_k12"], f"/projects/{rid}/findings")
    report = steward.get_by_role("article").filter(has_text="interim report")
    assert "may object until" in report.inner_text()
    report.get_by_label("Object: block the release").check()
    report.get_by_label("Text").fill("Table 2 shows a cell of 3 students.")
    report.get_by_role("button", name="Send").click()
    steward.get_by_text("Your objection is recorded").wait_for()
    assert "standing" in steward.locator(".comment-objection").inner_text()
    _screenshot(steward, "findings-objection")
    steward.get_by_role("button", name="Withdraw this objection").click()
    steward.get_by_text("The objection is withdrawn.").wait_for()

    # A window of 0 days: the researcher may release at once, from the page.
    rid2, report2 = _approved_with_report(served, title="Maths and wages", review_days=0)
    public = new_page()
    public.goto(served.url + "/public")
    assert "Maths and wages: interim report" not in public.content()
    researcher = new_page()
    _sign_in(researcher, served, served.tokens["researcher"], f"/projects/{rid2}/findings")
    researcher.get_by_role("button", name="Release to the public").click()
    researcher.get_by_text("The report is released").wait_for()
    public.goto(served.url + "/public")
    link = public.get_by_role("link", name="Maths and wages: interim report")
    assert link.get_attribute("href") == f"/v1/public/findings/{report2}"
    _screenshot(public, "findings-public")
