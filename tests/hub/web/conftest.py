"""Fixtures of the web page tests: a hub whose session cookie works over the TestClient's
plain http (``web_cookie_secure = false``, allowed on loopback), and a browser-like client
that signs in through the form and posts forms with the page's CSRF token."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

#: On PostgreSQL only the session tests of the pages run: sessions are the only thing the
#: pages store, and everything under them (services, persistence) already runs on both
#: backends in the API tests; the other page tests — here and the two that borrow the runs
#: and extracts federations — would only double the time.
POSTGRES_WEB_MODULES = ("tests/hub/web/test_web_sessions.py",)
WEB_PAGE_TESTS = ("tests/hub/web/", "tests/hub/runs/test_web_run_report_page.py",
                  "tests/hub/extracts/test_web_extract_download.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    dropped = [item for item in items
               if "[postgresql]" in item.nodeid
               and item.nodeid.startswith(WEB_PAGE_TESTS)
               and not item.nodeid.startswith(POSTGRES_WEB_MODULES)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        dropped_ids = {id(item) for item in dropped}
        items[:] = [item for item in items if id(item) not in dropped_ids]


CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
NONCE = re.compile(r'name="signin_nonce" value="([^"]+)"')


class Browser:
    """One browser with its own cookie jar."""

    def __init__(self, app: Any) -> None:
        self.client = TestClient(app, follow_redirects=False)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def sign_in(self, token: str, next_path: str = "/") -> Any:
        page = self.client.get(f"/signin?next={next_path}")
        assert page.status_code == 200, page.text
        nonce = NONCE.search(page.text)
        assert nonce is not None
        return self.client.post("/signin", data={"token": token, "signin_nonce": nonce.group(1),
                                                 "next": next_path})

    def csrf(self, url: str = "/") -> str:
        page = self.client.get(url)
        match = CSRF.search(page.text)
        assert match is not None, f"no CSRF token on {url}: {page.status_code}"
        return match.group(1)

    def post(self, url: str, data: dict[str, str], *, csrf_from: str | None = None) -> Any:
        """Post a form, with the CSRF token of the page at ``csrf_from`` (or none)."""
        if csrf_from is not None:
            data = {**data, "csrf_token": self.csrf(csrf_from)}
        return self.client.post(url, data=data)

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def web_hub(make_hub: Any) -> Any:
    """A hub (K12 and HE enrolled) serving pages over plain http to the TestClient."""
    instance = make_hub(web_cookie_secure=False)
    instance.enroll("K12")
    instance.enroll("HE")
    return instance


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Any:
    """A factory of browsers (on ``web_hub`` unless ``hub`` is given), optionally signed in
    with ``token``."""
    opened: list[Browser] = []

    def factory(token: str | None = None, *, hub: Any = None) -> Browser:
        b = Browser((hub or request.getfixturevalue("web_hub")).app)
        opened.append(b)
        if token is not None:
            response = b.sign_in(token)
            assert response.status_code == 303, response.text
        return b

    yield factory
    for b in opened:
        b.close()


@pytest.fixture
def audit_events(web_hub: Any) -> Any:
    """The audit events matching some filters, read through the API as an auditor."""
    token = web_hub.token("auditor")

    def read(**filters: str) -> list[dict[str, Any]]:
        response = web_hub.client.get("/v1/audit/events", params={"limit": 1000, **filters},
                                      headers=web_hub.auth(token))
        assert response.status_code == 200, response.text
        return list(response.json()["events"])

    return read
