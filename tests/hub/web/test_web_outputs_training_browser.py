"""The training and outputs pages in a real browser (Debian's Chromium through Playwright,
against a real ``fedlink hub serve``; the hub and browser fixtures are those of
``test_web_browser``): governance records a researcher's training on the page and the
researcher sees it current; a steward opens an output waiting for their agency, reads its
checks and table, and releases it with the form."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from hub.db.engine import engine_for, make_session_factory
from hub.domain.lifecycle import RequestStatus
from hub.persistence import requests as request_store
from hub.settings import HubSettings
from tests.hub.web.test_web_browser import (  # noqa: F401 - fixtures used by name
    _screenshot,
    _sign_in,
    chromium,
    new_page,
    served,
)

pytestmark = pytest.mark.e2e

SAFE = "school,Female,Male,Total\nOak,*,*,16\nElm,*,*,27\nPine,30,40,70\nTotal,49,64,113\n"


def _record_training_in_the_page(served: Any, new_page: Any) -> str:  # noqa: F811
    """Governance records the researcher's data-privacy training; returns its expiry."""
    researcher = served.api("GET", "/v1/me", served.tokens["researcher"])
    today = dt.datetime.now(dt.UTC).date()
    expires = (today + dt.timedelta(days=365)).isoformat()
    page = new_page()
    _sign_in(page, served, served.tokens["governance1"], "/training")
    page.get_by_label("Person").select_option(str(researcher["id"]))
    page.get_by_label("Training", exact=True).fill("data-privacy")
    page.get_by_label("Completed on").fill((today - dt.timedelta(days=1)).isoformat())
    page.get_by_label("Counts through").fill(expires)
    page.get_by_role("button", name="Record the completion").click()
    expect(page.get_by_role("status")).to_have_text(
        re.compile(r"The completion of data-privacy was recorded\."))
    row = page.locator("table.training-people tbody tr").filter(has_text="Ada Researcher")
    expect(row).to_contain_text(f"Current until {expires}")
    _screenshot(page, "training-governance")
    return expires


def test_governance_records_training_and_the_researcher_sees_it(served, new_page):  # noqa: F811
    expires = _record_training_in_the_page(served, new_page)
    page = new_page()
    _sign_in(page, served, served.tokens["researcher"], "/training")
    expect(page.locator("#my-standing")).to_have_text(
        re.compile(rf"data-privacy:\s*Current\s+until {expires}"))
    expect(page.get_by_role("heading", name="Record a completion")).to_have_count(0)
    _screenshot(page, "training-researcher")


def _ready_project(served: Any) -> str:  # noqa: F811
    """A submitted request set to ``ready`` in the served hub's database (approval and a
    linkage run are other tests' business: here only the airlock matters)."""
    request_id = served.submitted_request(title="Airlock in the browser")
    engine = engine_for(HubSettings.load(served.hub_dir))
    try:
        with make_session_factory(engine)() as session:
            request = request_store.get_request(session, request_id=request_id)
            assert request is not None
            request.status = RequestStatus.READY
            session.commit()
    finally:
        engine.dispose()
    return request_id


def test_steward_releases_an_output_in_the_browser(served, new_page):  # noqa: F811
    _record_training_in_the_page(served, new_page)
    project = _ready_project(served)
    output = served.api("POST", "/v1/outputs", served.tokens["researcher"], json={
        "project_id": project, "name": "Enrolment by school", "kind": "frequency",
        "csv": SAFE, "description": "Counts of students"})
    assert output["status"] == "pending_review"

    page = new_page()
    _sign_in(page, served, served.tokens["steward_k12"], "/outputs")
    row = page.locator("table.outputs tbody tr").filter(has_text=output["id"])
    expect(row).to_contain_text("Passed (0 findings)")
    expect(row).to_contain_text("HE, K12")
    _screenshot(page, "outputs-steward")
    row.get_by_role("link", name="Enrolment by school").click()
    expect(page.locator("#checks-verdict")).to_contain_text("Passed")
    expect(page.locator("table.output-table tbody tr")).to_have_count(4)
    page.get_by_label("Release").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_have_text("Your decision was recorded.")
    decision = page.locator("table.output-reviews tbody tr td")
    expect(decision.nth(0)).to_have_text("K12")
    expect(decision.nth(1)).to_have_text("Released")
    expect(page.get_by_text("A decision of HE")).to_be_visible()
    expect(page.get_by_role("button", name="Record the decision")).to_have_count(0)
    _screenshot(page, "output-released-by-k12")
    page.get_by_role("link", name="Outputs", exact=True).first.click()
    expect(page.locator("table.outputs tbody tr").filter(has_text=output["id"])).to_have_count(0)
