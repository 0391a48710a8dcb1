"""The public-use file page (/projects/{id}/public-use-files) in process: paste records, see
the risk before and after and what was done to each column, submit the released file to the
airlock; refusals are pages with their status, never a 500."""

from __future__ import annotations

import html
from typing import Any

from tests.hub.api.test_public_use_api import PUBLIC, _ready, _sch_file


def test_records_measured_recoded_and_submitted(web_hub: Any, browser: Any) -> None:
    token = web_hub.token("researcher", email="ada@uni.example")
    project = _ready(web_hub, token, **PUBLIC)
    page = browser(token)
    url = f"/projects/{project}/public-use-files"
    assert f'href="{url}"' in page.get(f"/projects/{project}").text  # linked: authorised
    shown = page.post(url, {"csv": _sch_file()}, csrf_from=url)
    assert shown.status_code == 200, shown.text
    text = html.unescape(shown.text)
    assert "<code>sch</code>: global recoding" in text
    assert "The airlock's automatic checks pass on this file" in text
    released = text.split('<pre class="mono" id="released-csv">')[1].split("</pre>")[0]
    assert released.startswith("sch,grade,sex\n") and "S30" not in released
    unnamed = page.post(url, {"csv": released, "action": "submit"}, csrf_from=url)
    assert unnamed.status_code == 422 and "Give the file a name" in unnamed.text
    done = page.post(url, {"csv": released, "action": "submit", "name": "Pupils"},
                     csrf_from=url)
    assert done.status_code == 303, done.text
    output_id = done.headers["location"].rsplit("/", 1)[1]
    output = web_hub.client.get(f"/v1/outputs/{output_id}", headers=web_hub.auth(
        web_hub.token("governance"))).json()
    assert (output["kind"], output["status"]) == ("records", "pending_review")


def test_unsafe_and_unauthorised_are_pages_with_their_status(web_hub: Any,
                                                             browser: Any) -> None:
    token = web_hub.token("researcher", email="ada@uni.example")
    project = _ready(web_hub, token, **PUBLIC)
    page = browser(token)
    url = f"/projects/{project}/public-use-files"
    ids = "pupil,sex\n" + "".join(f"P{i:04d},F\n" for i in range(100))
    unsafe = page.post(url, {"csv": ids}, csrf_from=url)
    assert unsafe.status_code == 422 and "identifier_like (pupil)" in html.unescape(unsafe.text)
    assert page.post(url, {"csv": ""}, csrf_from=url).status_code == 422
    restricted = _ready(web_hub, token)  # restricted_use only: no link, 403 page
    other = f"/projects/{restricted}/public-use-files"
    assert f'href="{other}"' not in page.get(f"/projects/{restricted}").text
    refused = page.post(other, {"csv": _sch_file()}, csrf_from=other)
    assert refused.status_code == 403 and "not public-use files" in html.unescape(refused.text)
