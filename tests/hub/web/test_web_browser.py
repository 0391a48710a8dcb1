"""The pages in a real browser: Debian's Chromium driven by Playwright against a real
``fedlink hub serve`` on a free loopback port, seeded with the CLI (``hub init``) and the
API (users; agencies enrolled with signing keys this test holds, so it can post valid
node-signed steward decisions). Screenshots of each page go to ``test-artifacts/screens/``.

The hub runs with its production cookie settings (``Secure``, ``__Host-`` prefix):
Chromium treats http://127.0.0.1 as a secure context, so no test-only setting is needed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomlkit
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import expect, sync_playwright

from hub.settings import DEFAULT_CRITERIA
from protocol.keyfiles import public_key_to_b64
from protocol.signing import sign
from protocol.wire import EnrollmentRequest, StewardDecision
from tests.served import free_port

pytestmark = pytest.mark.e2e

FEDLINK = Path(sys.executable).with_name("fedlink")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screens"
XSS = "<script>alert(1)</script>"
CATALOG = {
    "K12": [{"name": "grade", "type": "integer", "years": list(range(2015, 2025)),
             "classification": "internal", "description": "Grade level"},
            {"name": "test_score", "type": "number", "years": list(range(2015, 2025)),
             "classification": "confidential", "description": "State test scale score"}],
    "HE": [{"name": "enrolled", "type": "boolean", "years": list(range(2016, 2025)),
            "classification": "confidential", "description": "Enrolled in a public college"}],
}


@dataclass
class ServedHub:
    url: str
    admin: str
    tokens: dict[str, str] = field(default_factory=dict)
    node_keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    node_tokens: dict[str, str] = field(default_factory=dict)
    #: The served hub's directory (its hub.toml and database), for tests that set up state.
    hub_dir: Path | None = None

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        response = httpx.request(method, self.url + path, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def submitted_request(self, **overrides: Any) -> str:
        body = {
            "title": "Early grades and college enrolment", "institution": "State University",
            "research_questions": ["Do third-grade scores predict college enrolment?"],
            "public_summary": "How early achievement relates to enrolling in college.",
            "scope_and_deliverables": "A report to the agencies and a public brief.",
            "allowable_uses": ["statistical analysis for the research questions"],
            "variables": [
                {"agency": "K12", "variables": ["grade", "test_score"], "first_year": 2018,
                 "last_year": 2020},
                {"agency": "HE", "variables": ["enrolled"], "first_year": 2018,
                 "last_year": 2020}],
            "cohort_description": "Students in grade 3 in 2018.",
            "personnel": [{"name": "Dr Ada Researcher", "role": "PI",
                           "institution": "State University", "email": "ada@uni.example"}],
            "agency_contacts": [{"agency": "K12", "name": "Kay", "email": "kay@k12.example"}],
            "security_plan": "Encrypted workstation in a locked office; no copies.",
            "term_start": "2026-01-01", "term_end": "2099-12-31",
            "refresh_frequency": "annual", "matching_authorised": True,
            "disposition": "destroy",
            "interim_findings_plan": "Share interim findings with the agencies first.",
            "irb": {"status": "approved", "board": "State University IRB",
                    "protocol_number": "IRB-2025-042", "approval_date": "2025-06-01"},
            **overrides,
        }
        researcher = self.tokens["researcher"]
        request_id = str(self.api("POST", "/v1/requests", researcher, json=body)["id"])
        self.api("POST", f"/v1/requests/{request_id}/submit", researcher)
        return request_id

    def agency_approves(self, request_id: str, agency: str) -> None:
        node = self.node_tokens[agency]
        terms = self.api("GET", f"/v1/node/requests/{request_id}/terms", node)
        decision = StewardDecision(project_id=request_id, agency=agency, decision="approve",
                                   terms_digest=terms["terms_digest"],
                                   decided_at=dt.datetime.now(dt.UTC))
        envelope = sign(decision, typ=StewardDecision.TYP, private_key=self.node_keys[agency],
                        now=int(time.time()))
        self.api("POST", f"/v1/node/requests/{request_id}/decision", node,
                 content=envelope.to_json())



def _fedlink(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([str(FEDLINK), *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_HUB_")}
    hub_dir = tmp_path_factory.mktemp("served") / "hub"
    out = _fedlink("hub", "init", "--dir", str(hub_dir), env=env)
    admin = re.search(r"token \(shown once, keep it safe\): (\S+)", out).group(1)
    config = hub_dir / "hub.toml"
    settings = tomlkit.parse(config.read_text(encoding="utf-8"))
    settings["public_contact_name"] = "Pat Doe"
    settings["public_contact_title"] = "Chief Privacy Officer"
    settings["public_contact_email"] = "pat.doe@state.example"
    config.write_text(tomlkit.dumps(settings), encoding="utf-8")
    port = free_port()
    log = hub_dir.parent / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen([str(FEDLINK), "hub", "serve", "--dir", str(hub_dir),
                                   "--port", str(port)], env=env, stdout=sink,
                                  stderr=subprocess.STDOUT)
    hub = ServedHub(url=f"http://127.0.0.1:{port}", admin=admin, hub_dir=hub_dir)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{hub.url}/health", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"hub did not start: {log.read_text()}")
                time.sleep(0.1)
        for code, name in (("K12", "Department of Education"),
                           ("HE", "Council of Higher Education")):
            token = hub.api("POST", "/v1/agencies", admin, json={
                "code": code, "name": name, "url": f"http://{code.lower()}.invalid:8101",
            })["enrollment_token"]
            key = Ed25519PrivateKey.generate()
            request = EnrollmentRequest(agency=code, enrollment_token=token,
                                        signing_public_key=public_key_to_b64(key.public_key()),
                                        dictionary=tuple(CATALOG[code]))
            answer = httpx.post(f"{hub.url}/v1/enrollment", content=request.model_dump_json(),
                                headers={"Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == 200, answer.text
            hub.node_keys[code], hub.node_tokens[code] = key, answer.json()["node_token"]
        for label, body in (
            ("researcher", {"role": "researcher", "name": "Ada Researcher",
                            "email": "ada@uni.example"}),
            ("governance1", {"role": "governance", "name": "Gail Governance"}),
            ("governance2", {"role": "governance", "name": "Gus Governance"}),
            ("steward_k12", {"role": "steward", "name": "Sam Steward", "agency": "K12"}),
            ("auditor", {"role": "auditor", "name": "Audrey Auditor"}),
        ):
            # Invited by the admin, redeemed by the person (the governance pair are the
            # bootstrap quorum), privileged accounts then approved by both members.
            code = hub.api("POST", "/v1/invitations", admin, json=body)["code"]
            redeemed = httpx.post(f"{hub.url}/v1/invitations/redeem", json={"code": code},
                                  timeout=10).json()
            for member in ("governance1", "governance2"):
                if redeemed["status"] == "pending":
                    hub.api("POST", f"/v1/users/{redeemed['id']}/approve",
                            hub.tokens[member])
            hub.tokens[label] = redeemed["token"]
        yield hub
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Any]:
    """Pages in fresh browser contexts (own cookies); JavaScript dialogs fail the test."""
    contexts: list[Any] = []
    dialogs: list[str] = []

    def factory() -> Any:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        return page

    yield factory
    for context in contexts:
        context.close()
    assert dialogs == [], f"a page ran script: {dialogs}"


def _sign_in(page: Any, hub: ServedHub, token: str, path: str) -> None:
    page.goto(hub.url + path)
    assert "/signin?next=" in page.url  # pages send the signed-out to sign in first
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(hub.url + path)


def _screenshot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_approval_in_the_browser_reaches_the_audit_log_and_public_page(served, new_page):
    request_id = served.submitted_request()
    for agency in ("K12", "HE"):
        served.agency_approves(request_id, agency)
    for n, member in enumerate(("governance1", "governance2"), start=1):
        page = new_page()
        _sign_in(page, served, served.tokens[member], "/review")
        if n == 1:
            _screenshot(page, "review-queue")
        page.get_by_role("link", name="Early grades and college enrolment").click()
        if n == 1:
            _screenshot(page, "review-request")
        page.get_by_label("Approve").check()
        for _, criterion in DEFAULT_CRITERIA:  # an approval ticks the whole checklist
            page.get_by_label(criterion, exact=True).check()
        page.get_by_role("button", name="Record my review").click()
        page.get_by_text("Your review was recorded.").wait_for()
    assert page.locator(".meta .badge").inner_text() == "Approved"

    auditor = new_page()
    _sign_in(auditor, served, served.tokens["auditor"], "/audit")
    auditor.get_by_label("Action").fill("request.approved")
    auditor.get_by_role("button", name="Search").click()
    expect(auditor.locator("#audit-count")).to_have_text(re.compile(r"^\s*1 matching event;"))
    rows = auditor.locator("table.events tbody tr")
    expect(rows).to_have_count(1)
    assert request_id in rows.inner_text() and "request.approved" in rows.inner_text()
    assert "Intact." in auditor.locator(".chain").inner_text()
    _screenshot(auditor, "audit")

    public = new_page()
    public.goto(served.url + "/public")
    project = public.get_by_role("article").filter(has_text="Early grades")
    assert "confidential, internal" in project.inner_text()
    assert "Pat Doe" in public.get_by_role("region", name="Questions about data and "
                                           "privacy").inner_text()
    _screenshot(public, "public")
    public.goto(served.url + "/public/privacy")
    _screenshot(public, "privacy")

    researcher = new_page()
    _sign_in(researcher, served, served.tokens["researcher"], f"/projects/{request_id}")
    assert "No linkage run yet." in researcher.locator("main").inner_text()
    _screenshot(researcher, "project")


def test_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_main(served, new_page):
    page = new_page()
    page.goto(served.url + "/signin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.get_by_label("API token").fill("flu_wrong")
    page.keyboard.press("Enter")
    error = page.locator("#token-error")
    assert "not accepted" in error.inner_text()
    assert page.get_by_label("API token").get_attribute("aria-invalid") == "true"
    _screenshot(page, "signin-error")


def test_script_in_a_title_stays_text(served, new_page):
    request_id = served.submitted_request(title=XSS)
    page = new_page()
    _sign_in(page, served, served.tokens["governance1"], f"/review/{request_id}")
    assert page.get_by_role("heading", level=1).inner_text() == XSS
    _screenshot(page, "xss-title")


def test_steward_cannot_open_another_agencys_request(served, new_page):
    mine = served.submitted_request(title="Grades only")
    theirs = served.submitted_request(
        title="Enrolment only", agency_contacts=[
            {"agency": "HE", "name": "Hal", "email": "hal@he.example"}],
        variables=[{"agency": "HE", "variables": ["enrolled"], "first_year": 2018,
                    "last_year": 2020}])
    page = new_page()
    _sign_in(page, served, served.tokens["steward_k12"], f"/review/{mine}")
    assert f"fedlink node approve {mine}" in page.locator("main").inner_text()
    _screenshot(page, "steward-request")
    response = page.goto(f"{served.url}/review/{theirs}")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    assert "Enrolment only" not in page.content()
    _screenshot(page, "steward-other-agency")


def test_researcher_reads_the_data_dictionary_before_requesting(served, new_page):
    page = new_page()
    _sign_in(page, served, served.tokens["researcher"], "/projects")
    page.get_by_role("link", name="Data dictionary").click()
    page.wait_for_url(served.url + "/catalog")
    grade = page.get_by_role("article", name="grade")
    assert "Grade level" in grade.inner_text() and "2015, 2016" in grade.inner_text()
    _screenshot(page, "catalog")
    public = new_page()
    public.goto(served.url + "/public")
    public.get_by_role("link", name="Data available").click()
    public.wait_for_url(served.url + "/public/catalog")
    row = public.get_by_role("row").filter(has_text="test_score")
    assert "2015–2024" in row.inner_text() and "confidential" in row.inner_text()
    _screenshot(public, "public-catalog")
