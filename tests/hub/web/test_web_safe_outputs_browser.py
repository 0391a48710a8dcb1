"""The safe-table page in a real browser (Debian's Chromium through Playwright, against a
real ``fedlink hub serve``; the shared hub and browser fixtures of ``test_web_browser``): a
researcher uploads a table of counts with a cell of 3, sees that cell and its complements
marked with their reasons, and submits the protected table, which the airlock accepts."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
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

TABLE = "school,Female,Male\nOak,3,13\nElm,20,30\nPine,30,40\n"


def _trained_ready_project(served: Any) -> str:  # noqa: F811
    """The served researcher trained (by governance, through the API) and one of their
    requests set to ``ready`` in the hub's database (approval and linkage are other tests'
    business)."""
    researcher = served.api("GET", "/v1/me", served.tokens["researcher"])
    today = dt.datetime.now(dt.UTC).date()
    served.api("POST", f"/v1/users/{researcher['id']}/training", served.tokens["governance1"],
               json={"training": "data-privacy",
                     "completed_on": (today - dt.timedelta(days=1)).isoformat(),
                     "expires_on": (today + dt.timedelta(days=365)).isoformat()})
    request_id = served.submitted_request(title="Safe tables in the browser")
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


def test_researcher_protects_a_table_and_submits_it(served, new_page,  # noqa: F811
                                                    tmp_path: Path) -> None:
    project = _trained_ready_project(served)
    upload = tmp_path / "counts.csv"
    upload.write_text(TABLE, encoding="utf-8")
    page = new_page()
    _sign_in(page, served, served.tokens["researcher"], f"/projects/{project}/safe-tables")
    page.get_by_label("Or upload a CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Protect the table").click()

    table = page.locator("table.safe-table")
    expect(table.locator("td[data-status=primary]")).to_have_count(1)
    expect(table.locator("td[data-status=complementary]")).to_have_count(3)
    oak = table.locator("tbody tr").filter(has_text="Oak")
    expect(oak.locator("td").nth(0)).to_have_attribute("data-status", "primary")
    expect(oak.locator("td").nth(2)).to_have_text("16")
    reasons = page.locator("ol.safe-reasons li")
    expect(reasons).to_have_count(4)
    expect(reasons.nth(0)).to_have_text("(Oak, Female) — primary: a count below 10")
    expect(reasons.nth(1)).to_contain_text("complementary")
    expect(page.locator("#airlock-verdict")).to_contain_text("checks pass")
    _screenshot(page, "safe-table-protected")

    page.get_by_label("Name of the table").fill("Enrolment by school")
    page.get_by_role("button", name="Submit the protected table to the airlock").click()
    page.wait_for_url(re.compile(r".*/outputs/out-[0-9a-f]+$"))
    expect(page.get_by_role("heading", name="Enrolment by school")).to_be_visible()
    expect(page.locator("#checks-verdict")).to_contain_text("Passed")
    output_id = page.url.rsplit("/", 1)[1]
    stored = served.api("GET", f"/v1/outputs/{output_id}", served.tokens["researcher"])
    assert stored["status"] == "pending_review"
    assert stored["content"] == ("school,Female,Male,Total\nOak,*,*,16\nElm,*,*,50\n"
                                 "Pine,30,40,70\nTotal,53,83,136\n")
    _screenshot(page, "safe-table-submitted")


def test_bad_table_is_shown_as_a_problem(served, new_page) -> None:  # noqa: F811
    project = _trained_ready_project(served)
    page = new_page()
    _sign_in(page, served, served.tokens["researcher"], f"/projects/{project}/safe-tables")
    page.get_by_label("Counts (CSV)").fill("school,Female,Male\nOak,3\nElm,20,30\n")
    page.get_by_role("button", name="Protect the table").click()
    expect(page.get_by_role("alert")).to_contain_text("Line 2 has 2 fields")
    expect(page.locator("table.safe-table")).to_have_count(0)
