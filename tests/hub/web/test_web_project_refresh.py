"""The project page shows when the next scheduled refresh starts (docs/refresh.md) and says
an agreement stored with the removed `disposition: return` is destroyed."""

from __future__ import annotations

import html
from typing import Any

from hub.services.refresh import add_months
from tests.hub.api.test_hub_disposition import _store_disposition
from tests.hub.services.test_refresh import _finished_at, _ready


def _refresh_line(page: str) -> str:
    start = page.index('id="refresh-schedule"')
    return html.unescape(page[start:page.index("</p>", start)])


def test_project_page_shows_the_next_scheduled_refresh(web_hub: Any, browser: Any) -> None:
    request_id, researcher, _, first = _ready(web_hub, refresh_frequency="quarterly")
    line = _refresh_line(browser(researcher).get(f"/projects/{request_id}").text)
    assert "Scheduled refresh (quarterly)" in line
    due = add_months(_finished_at(web_hub, first), 3)
    assert f'<time datetime="{due.isoformat()}">' in line
    assert "none scheduled" not in line


def test_project_page_of_a_once_project_has_no_refresh_line(web_hub: Any,
                                                            browser: Any) -> None:
    request_id, researcher, _, _ = _ready(web_hub, refresh_frequency="once")
    assert 'id="refresh-schedule"' not in browser(researcher).get(
        f"/projects/{request_id}").text


def test_project_page_says_a_stored_return_agreement_is_destroyed(web_hub: Any,
                                                                  browser: Any) -> None:
    request_id, researcher, _, _ = _ready(web_hub)
    _store_disposition(web_hub, request_id, "return")
    page = html.unescape(browser(researcher).get(f"/projects/{request_id}").text)
    assert "Data is destroyed at the end of the term" in page
    assert "which Fedlink does not do" in page
    assert "returned" not in page
