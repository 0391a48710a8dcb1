"""An extract on the researcher's project page: its expiry countdown and its download
through the signed-in web session, with the same checks and audit as the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

Federation = Any  # tests/hub/extracts/conftest.py


@pytest.fixture
def fed(federation: Federation) -> Iterator[Federation]:
    federation.hub.app.state.node_transport = federation.transport()
    federation.hub.clock.offset = dt.timedelta()
    yield federation
    federation.hub.clock.offset = dt.timedelta()


def _signed_in(fed: Federation, token: str) -> TestClient:
    # https: the hub's default session cookie is Secure and __Host- prefixed.
    browser = TestClient(fed.hub.app, base_url="https://testserver", follow_redirects=False)
    form = browser.get("/signin")
    nonce = re.search(r'name="signin_nonce" value="([^"]+)"', form.text).group(1)
    response = browser.post("/signin", data={"token": token, "signin_nonce": nonce})
    assert response.status_code == 303, response.text
    return browser


def test_project_page_offers_the_extract_with_its_countdown_and_downloads_it(fed) -> None:
    project, _, _ = fed.ready_project()
    extract = fed.api_extract(project)
    link = f"/projects/{project}/extracts/{extract['id']}/download"
    with _signed_in(fed, fed.researcher[1]) as browser:
        page = browser.get(f"/projects/{project}").text
        assert extract["id"] in page and f'href="{link}"' in page
        assert re.search(r"<strong>\d+ days? \d+ hours? left</strong>", page)
        download = browser.get(link)
        assert download.status_code == 200, download.text
        assert hashlib.sha256(download.content).hexdigest() == extract["sha256"]
        assert download.headers["x-fedlink-sha256"] == extract["sha256"]
        assert browser.get(f"/projects/{project}/extracts/ext-unknown/download"
                           ).status_code == 404
    with _signed_in(fed, fed.governance[0]) as governance:
        page = governance.get(f"/projects/{project}").text
        assert "Only the project's personnel" in page and f'href="{link}"' not in page
        refused = governance.get(link)
        assert refused.status_code == 403 and "only the project" in refused.text
