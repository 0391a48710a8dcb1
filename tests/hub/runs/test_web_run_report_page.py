"""The project page of a project with a real finished linkage run (two in-process agency
nodes, the hub's worker): the run, its quality figures and charts, seen by the researcher
through a signed-in web session (docs/web.md)."""

from __future__ import annotations

import re
import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def test_project_page_shows_the_finished_runs_quality_report(federation: Any) -> None:
    request_id = federation.approved_project()
    run = federation.start_run()
    assert federation.worker().run_once() == run["id"]
    report = federation.run(run["id"])["report"]
    # https: the hub's default session cookie is Secure and __Host- prefixed.
    with TestClient(federation.hub.app, base_url="https://testserver",
                    follow_redirects=False) as browser:
        form = browser.get("/signin")
        nonce = re.search(r'name="signin_nonce" value="([^"]+)"', form.text).group(1)
        signed_in = browser.post("/signin", data={"token": federation.researcher,
                                                  "signin_nonce": nonce})
        assert signed_in.status_code == 303, signed_in.text
        page = browser.get(f"/projects/{request_id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert f'<td class="mono">{run["id"]}</td><td>succeeded</td>' in text
    assert f"Quality of run <span class=\"mono\">{run['id']}</span>" in text
    summary = report["summary"]
    assert f"<dt>Links</dt><dd>{summary['links']}</dd>" in text
    assert f"{summary['estimated_precision'] * 100:.1f}%" in text
    assert text.count('class="bar-cand"') == len(report["weights"]["candidates"])
    for agency in report["agencies"]:
        assert f"<td>{agency['name']}</td><td>{agency['records']}</td>" in text
    assert "Records linked: the extract can be built" in text  # the timeline
    assert "No extract yet" in text
