"""The audit page in a real browser (Debian's Chromium through Playwright, against a real
``fedlink hub serve``; the hub and browser fixtures are those of ``test_web_browser``):
the export links carry exactly the filters of the rows shown after an htmx search, paging
goes forward and back to the same rows, and a row with a large detail is one line high.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.hub.web.test_web_browser import (  # noqa: F401 - fixtures used by name
    _screenshot,
    _sign_in,
    chromium,
    new_page,
    served,
)

pytestmark = pytest.mark.e2e


def _events(hub: Any, **filters: str) -> list[dict[str, Any]]:
    page = hub.api("GET", "/v1/audit/events", hub.tokens["auditor"],
                   params={"limit": 1000, **filters})
    assert page["next_after_seq"] is None
    return list(page["events"])


def _shown(page: Any) -> list[int]:
    return [int(text.split()[0])
            for text in page.locator("table.events tbody th[scope=row]").all_inner_texts()]


def _download(page: Any, link: str) -> str:
    with page.expect_download() as info:
        page.locator("#audit-results").get_by_role("link", name=link, exact=True).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_exports_and_paging_keep_the_filters(served, new_page):  # noqa: F811
    request_id = served.submitted_request()
    other = served.submitted_request(title="Another project")
    for n in range(60):
        # Audited reads of the agreement (request.viewed), interleaved with another project's.
        served.api("GET", f"/v1/requests/{request_id}", served.tokens["governance1"])
        if n % 6 == 0:
            served.api("GET", f"/v1/requests/{other}", served.tokens["governance1"])
    expected = [e["seq"] for e in _events(served, project=request_id, action="request.")]
    assert len(expected) == 62  # created, submitted, 60 views
    first_day, last_day = (_events(served, project=request_id)[i]["ts"][:10] for i in (0, -1))

    page = new_page()
    _sign_in(page, served, served.tokens["auditor"], "/audit")
    page.get_by_label("Project").fill(request_id)
    page.get_by_label("Action").fill("request.")
    page.get_by_label("From (UTC day, inclusive)").fill(first_day)
    page.get_by_label("Through (UTC day, inclusive)").fill(last_day)
    page.get_by_role("button", name="Search").click()
    count = page.locator("#audit-count")
    expect(count).to_have_text(re.compile(r"^\s*62 matching events; showing 1–50 of 62\.\s*$"))
    assert f"project={request_id}" in page.url and f"through={last_day}" in page.url
    assert _shown(page) == expected[:50]
    _screenshot(page, "audit-filtered")

    rows = list(csv.DictReader(_download(page, "CSV").splitlines()))
    assert [int(r["seq"]) for r in rows] == expected
    assert {r["project"] for r in rows} == {request_id}
    lines = _download(page, "JSON Lines").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == expected

    page.get_by_role("link", name="Next 50 events").click()
    expect(count).to_have_text(re.compile(r"showing 51–62 of 62\."))
    assert _shown(page) == expected[50:]
    assert "after_seq=" in page.url and f"project={request_id}" in page.url
    assert [int(json.loads(line)["seq"]) for line in
            _download(page, "JSON Lines").splitlines()] == expected  # all, not the page
    page.get_by_role("link", name="Previous 50 events").click()
    expect(count).to_have_text(re.compile(r"showing 1–50 of 62\."))
    assert _shown(page) == expected[:50]
    page.go_back()  # the pushed URL of the second page
    expect(count).to_have_text(re.compile(r"showing 51–62 of 62\."))
    assert _shown(page) == expected[50:]
    page.get_by_role("link", name="First page").click()
    expect(count).to_have_text(re.compile(r"showing 1–50 of 62\."))
    assert _shown(page) == expected[:50]


def test_a_large_detail_keeps_its_row_one_line_high(served, new_page):  # noqa: F811
    long_actor = "user:" + "7" * 180
    for params in ({"actor": long_actor, "agency": "K12", "action": "request.",
                    "since": "2026-01-01", "project": "prj-" + "a" * 40}, {}):
        served.api("GET", "/v1/audit/events", served.tokens["auditor"], params=params)
    page = new_page()
    _sign_in(page, served, served.tokens["auditor"], "/audit?action=audit.searched")
    rows = page.locator("table.events tbody tr")
    large = rows.filter(has_text=long_actor)
    plain = rows.filter(has=page.locator("td.detail", has_text=re.compile(r"^—$")))
    expect(large).to_have_count(1)
    plain = plain.first
    large_box, plain_box = large.bounding_box(), plain.bounding_box()
    assert large_box is not None and plain_box is not None
    assert abs(large_box["height"] - plain_box["height"]) < 1, (large_box, plain_box)
    _screenshot(page, "audit-details")
    large.locator("summary").click()  # the whole JSON, on demand
    detail = large.locator("pre")
    expect(detail).to_be_visible()
    assert json.loads(detail.inner_text())["actor"] == long_actor
    assert large.bounding_box()["height"] > 2 * plain_box["height"]
