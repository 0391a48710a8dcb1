"""``fedlink-client findings|deliverables|publication`` against the real hub app: a
researcher uploads a report, reads the agencies' objection, downloads the file (SHA-256
checked), releases it after the window and registers the paper; one-line errors."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import fedlink_client.cli as cli
import pytest
from fedlink_client import Client

from tests.hub.api.test_hub_findings import PDF, approved_project, days_later

Hub = Any


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _token_file(folder: Path, token: str) -> str:
    """A new 0600 file holding ``token`` (no command takes a token as a flag value)."""
    path = folder / "researcher.token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return str(path)


@pytest.fixture
def in_process(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Hub:
    """The CLI's clients talk to the in-process hub (a token only when the command sends
    one)."""
    def client(args: Any, *, token: bool = True) -> Client:
        return Client(args.hub, token_file=args.token_file if token else None,
                      transport=hub.client._transport, from_env=False)

    monkeypatch.setattr(cli, "_client", client)
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    return hub


def test_researcher_uploads_downloads_releases_and_registers(
        in_process: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hub = in_process
    token, project = approved_project(hub, findings_review_days=7)
    mine = ("--hub", "http://hub.test", "--token-file", _token_file(tmp_path, token))
    paper = tmp_path / "interim.pdf"
    paper.write_bytes(PDF)
    code, out, err = run(capsys, *mine, "findings", "upload", project, str(paper), "--title",
                         "Interim findings", "--deliverable", "Interim report")
    assert code == 0, err
    found = re.fullmatch(r"report (rpt-[0-9a-f]+) shared with the agencies; review window "
                         r"until (\d{4}-\d\d-\d\d)\n", out)
    assert found, out
    report = found.group(1)

    steward = hub.client.post(f"/v1/findings/{report}/comments",
                              headers=hub.auth(hub.token("steward", agency="K12")),
                              json={"kind": "objection", "text": "Suppress the cell of 3."})
    assert steward.status_code == 201, steward.text
    code, out, _ = run(capsys, *mine, "findings", "list")
    assert code == 0
    assert out == (f"{report}  {project:<18} interim  Interim findings  [in_review until "
                   f"{found.group(2)}, 1 objection(s)]\n")
    code, out, _ = run(capsys, *mine, "findings", "show", report)
    shown = json.loads(out)
    assert [(c["kind"], c["status"], c["agency"]) for c in shown["comments"]] == [
        ("objection", "standing", "K12")]
    code, out, err = run(capsys, *mine, "findings", "download", report, "--out",
                         str(tmp_path / "got"))
    assert code == 0, err
    sha = hashlib.sha256(PDF).hexdigest()
    assert out == f"report {report}: sha256 {sha} verified; {tmp_path / 'got' / 'interim.pdf'}\n"
    assert (tmp_path / "got" / "interim.pdf").read_bytes() == PDF

    days_later(hub, 8)
    code, out, err = run(capsys, *mine, "findings", "release", report)
    assert (code, out) == (5, "") and err.count("\n") == 1
    assert err.startswith("fedlink-client: error: ") and "objection_standing (409)" in err
    hub.client.post(f"/v1/findings/{report}/comments/{steward.json()['id']}/withdraw",
                    headers=hub.auth(hub.token("steward", agency="K12")))
    code, out, err = run(capsys, *mine, "findings", "release", report)
    assert code == 0, err
    assert out == f"report {report} released: GET /v1/public/findings/{report}\n"

    code, out, _ = run(capsys, *mine, "deliverables", project)
    assert out == ("2026-06-30  released  interim Interim report\n"
                   "2099-12-31  due       final   Final paper\n")
    code, out, err = run(capsys, *mine, "publication", "add", project, "--citation",
                         "Researcher, A. (2027). Early grades.", "--published", "2027-06-01",
                         "--doi", "10.1234/jed.2027.42", "--report", report)
    assert code == 0 and re.fullmatch(
        rf"publication pub-[0-9a-f]+ registered for project {project}\n", out), err
    # The register is public: no token file needed.
    code, out, err = run(capsys, "publication", "list")
    assert code == 0, err
    assert out == (f"2027-06-01  {project:<18} Researcher, A. (2027). Early grades."
                   "  doi:10.1234/jed.2027.42\n")
    code, out, _ = run(capsys, "publication", "list", "--json")
    assert [row["report_id"] for row in json.loads(out)] == [report]


def test_findings_errors_are_one_line_with_exit_codes(
        in_process: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hub = in_process
    token, project = approved_project(hub)
    mine = ("--token-file", _token_file(tmp_path, token))
    page = tmp_path / "report.html"
    page.write_text("<html></html>")
    code, out, err = run(capsys, *mine, "findings", "upload", project, str(page),
                         "--title", "T")
    assert (code, out) == (2, "")
    assert err == f"fedlink-client: error: {page}: give a .pdf, .docx, .txt or .md file\n"
    code, _, err = run(capsys, *mine, "findings", "show", "rpt-nope")
    assert code == 4 and "not_found (404)" in err and err.count("\n") == 1
    code, _, err = run(capsys, *mine, "publication", "add", project, "--citation", "C",
                       "--published", "June 2027")
    assert code == 2
    assert err == "fedlink-client: error: --published 'June 2027': give a date as " \
                  "YYYY-MM-DD\n"
    code, _, err = run(capsys, *mine, "findings", "upload", project, str(page.with_suffix(
        ".pdf")), "--title", "T")
    assert code == 2 and "No such file" in err
    code, out, _ = run(capsys, *mine, "findings", "list", "--project", project)
    assert (code, out) == (0, "no reports\n")
