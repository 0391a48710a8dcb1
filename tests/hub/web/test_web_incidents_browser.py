"""The incident pages in a real browser (Chromium, a real ``fedlink hub serve``; fixtures of
tests/hub/web/test_web_browser.py): governance records an incident, contains the project,
reads the access report and closes it; the public page then states it."""

from __future__ import annotations

import httpx
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


def _approved(hub: ServedHub) -> str:
    rid = hub.submitted_request(title="Attendance and wages")
    for agency in ("K12", "HE"):
        hub.agency_approves(rid, agency)
    checklist = [{"id": c.id, "met": True, "note": ""}
                 for c in HubSettings.load(hub.hub_dir).review_criteria]
    for member in ("governance1", "governance2"):
        hub.api("POST", f"/v1/requests/{rid}/reviews", hub.tokens[member],
                json={"decision": "approve", "reason": "", "criteria": checklist})
    return rid


def test_governance_contains_and_closes_an_incident_in_the_browser(served, new_page):  # noqa: F811
    rid = _approved(served)
    page = new_page()
    _sign_in(page, served, served.tokens["governance1"], "/incidents")
    page.get_by_label("Title").fill("Extract on a shared drive")
    page.get_by_label("What happened").fill("Found by the university's audit.")
    page.get_by_label("Severity").select_option("critical")
    page.get_by_label("Project id (if any)").fill(rid)
    page.get_by_label("Notifiable under policy").check()
    page.get_by_label("Public summary").fill("A linked extract was stored unprotected.")
    page.get_by_role("button", name="Record").click()
    page.get_by_text("The incident is recorded.").wait_for()

    page.get_by_role("button", name="Contain the project now").click()
    page.get_by_text("The project is contained.").wait_for()
    summary = page.locator("#containment-summary").inner_text()
    assert "project revoked" in summary and "0 still live" in summary
    me = httpx.get(f"{served.url}/v1/me", timeout=10,
                   headers={"Authorization": f"Bearer {served.tokens['researcher']}"})
    assert me.status_code == 401  # the personnel's token is revoked
    page.get_by_role("link", name="Show who saw or downloaded what").click()
    assert "request.revoked" in page.locator("#access-report").inner_text()
    _screenshot(page, "incident-contained")
    page.get_by_label("Resolution").fill("The drive was wiped; training repeated.")
    page.get_by_role("button", name="Close the incident").click()
    page.get_by_text("The incident is closed.").wait_for()

    public = new_page()
    public.goto(f"{served.url}/public/incidents")
    assert "A linked extract was stored unprotected." in public.locator(
        "#public-incidents").inner_text()
