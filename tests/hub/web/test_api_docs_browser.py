"""The API documentation in a real browser with no internet (issue 19): Debian's Chromium
(Playwright) opens ``/docs`` and ``/redoc`` of a real ``fedlink hub serve`` while every
request to any other host is aborted. The operations must render, nothing may try to
leave the hub, and the pages' Content-Security-Policy must block nothing they need.
Screenshots go to ``test-artifacts/screens/``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.hub.web.test_web_browser import chromium  # noqa: F401 - a fixture, used by name
from tests.served import free_port, wait_until_serving

pytestmark = pytest.mark.e2e

FEDLINK = Path(sys.executable).with_name("fedlink")
SCREENS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screens"
#: ReDoc's side menu always shows Redocly's logo from their CDN (redoc.standalone.js has
#: no option against it): the pages' policy blocks it before any request is made, and
#: ReDoc hides the image. That one refusal is expected; nothing else may be.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _unexpected(messages: list[str]) -> list[str]:
    return [m for m in messages if REDOCLY_LOGO not in m]


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_HUB_")}
    hub_dir = tmp_path_factory.mktemp("docs") / "hub"
    subprocess.run([str(FEDLINK), "hub", "init", "--dir", str(hub_dir)], env=env,
                   capture_output=True, check=True, timeout=60)
    port = free_port()
    log = hub_dir.parent / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen([str(FEDLINK), "hub", "serve", "--dir", str(hub_dir),
                                   "--port", str(port)], env=env, stdout=sink,
                                  stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server, log, what="hub")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def offline_page(chromium: Any, hub_url: str) -> Iterator[tuple[Any, list[str], list[str]]]:  # noqa: F811
    """A page that can reach the hub only; (page, requests aborted, console errors)."""
    hub_host = urlsplit(hub_url).netloc
    aborted: list[str] = []
    errors: list[str] = []
    context = chromium.new_context(viewport={"width": 1280, "height": 900})

    def only_the_hub(route: Any) -> None:
        if urlsplit(route.request.url).netloc == hub_host:
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_hub)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, aborted, errors
    context.close()


def _screenshot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


def test_swagger_ui_renders_every_operation_offline(hub_url: str, offline_page: Any) -> None:
    page, aborted, errors = offline_page
    page.goto(f"{hub_url}/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=30_000)
    assert operations.count() >= 60
    expect(page.get_by_text("Draft a request (a data sharing agreement)",
                            exact=False).first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    # The agreement's example is there to try out.
    page.locator("#operations-requests-create_v1_requests_post").click()
    expect(page.get_by_text("Early grades and college enrolment").first).to_be_visible()
    _screenshot(page, "api-docs-swagger")
    assert aborted == [] and errors == [], (aborted, errors)


def test_redoc_renders_the_reference_offline(hub_url: str, offline_page: Any) -> None:
    page, aborted, errors = offline_page
    page.goto(f"{hub_url}/redoc")
    expect(page.get_by_role("heading", name=re.compile("Fedlink hub"))).to_be_visible(
        timeout=30_000)
    expect(page.get_by_text("Draft a request (a data sharing agreement)",
                            exact=False).first).to_be_attached()
    # Operations that take a token show the bearer scheme.
    assert page.get_by_text("Authorizations:").count() >= 40
    _screenshot(page, "api-docs-redoc")
    assert _unexpected(aborted) == [] and _unexpected(errors) == [], (aborted, errors)
