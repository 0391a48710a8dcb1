"""The safe-table page (/projects/{id}/safe-tables) in process: paste or upload counts, see
the suppressed cells marked with their reasons, submit the protected table to the airlock;
refusals are pages with their status, never a 500."""

from __future__ import annotations

import html
from typing import Any

from tests.hub.api.test_safe_outputs_api import TABLE, _ready


def _signed_in(web_hub: Any, browser: Any) -> tuple[Any, str]:
    token = web_hub.token("researcher", email="ada@uni.example")
    project = _ready(web_hub, token)
    return browser(token), project


def test_pasted_table_shown_protected_with_reasons(web_hub: Any, browser: Any) -> None:
    page, project = _signed_in(web_hub, browser)
    url = f"/projects/{project}/safe-tables"
    assert f'href="{url}"' in page.get(f"/projects/{project}").text  # linked for personnel
    assert page.get(url).status_code == 200
    shown = page.post(url, {"csv": TABLE}, csrf_from=url)
    assert shown.status_code == 200, shown.text
    text = html.unescape(shown.text)
    assert text.count('data-status="primary"') == 1
    assert text.count('data-status="complementary"') == 3
    assert "(Oak, Female) — primary: a count below 10" in text
    assert "The airlock's automatic checks pass on this table" in text
    assert "Pine,30,40,70" in text


def test_uploaded_file_then_submit_reaches_the_airlock(web_hub: Any, browser: Any) -> None:
    page, project = _signed_in(web_hub, browser)
    url = f"/projects/{project}/safe-tables"
    csrf = page.csrf(url)
    shown = page.client.post(url, data={"csrf_token": csrf, "csv": ""},
                             files={"upload": ("counts.csv", TABLE.encode(), "text/csv")})
    assert shown.status_code == 200, shown.text
    assert html.unescape(shown.text).count('data-status="complementary"') == 3
    unnamed = page.post(url, {"csv": TABLE, "action": "submit"}, csrf_from=url)
    assert unnamed.status_code == 422 and "Give the table a name" in unnamed.text
    done = page.post(url, {"csv": TABLE, "action": "submit", "name": "By school"},
                     csrf_from=url)
    assert done.status_code == 303, done.text
    output_id = done.headers["location"].rsplit("/", 1)[1]
    token = web_hub.token("governance")
    output = web_hub.client.get(f"/v1/outputs/{output_id}", headers=web_hub.auth(token)).json()
    assert output["status"] == "pending_review"
    assert output["content"].startswith("school,Female,Male,Total\nOak,*,*,16\n")


def test_bad_table_is_a_422_page_and_other_roles_are_refused(web_hub: Any,
                                                              browser: Any) -> None:
    page, project = _signed_in(web_hub, browser)
    url = f"/projects/{project}/safe-tables"
    bad = page.post(url, {"csv": "school,n\nOak,-3\n"}, csrf_from=url)
    assert bad.status_code == 422
    assert "is negative" in html.unescape(bad.text)
    empty = page.post(url, {"csv": "  "}, csrf_from=url)
    assert empty.status_code == 422 and "Paste a table" in empty.text
    steward = browser(web_hub.token("steward", agency="K12"))
    assert steward.get(url).status_code == 403
