"""``fedlink findings …`` and ``fedlink publication …``: a researcher uploads, a steward
objects then withdraws, the researcher releases and registers the paper. In process against
a hub app through :func:`fedlink.cli.main`."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

from tests.cli_support import run, write_token
from tests.hub.api.test_hub_findings import PDF, approved_project


def test_cli_upload_object_withdraw_release_and_register(cli_hub: Any, tmp_path: Path,
                                                         capsys: Any) -> None:
    hub = cli_hub
    token, rid = approved_project(hub, findings_review_days=7)
    researcher = write_token(tmp_path, "researcher", token)
    steward = write_token(tmp_path, "steward", hub.token("steward", agency="K12"))
    report_file = tmp_path / "interim.pdf"
    report_file.write_bytes(PDF)
    code, out, err = run(capsys, "findings", "upload", rid, str(report_file), "--title",
                         "Interim findings", "--deliverable", "Interim report",
                         "--token-file", researcher)
    assert code == 0, err
    report_id = re.search(r"report (rpt-[0-9a-f]+) shared", out).group(1)

    code, out, err = run(capsys, "findings", "list", "--token-file", steward)
    assert code == 0, err
    assert report_id in out and "in_review until" in out
    code, out, err = run(capsys, "findings", "download", report_id, "--out",
                         str(tmp_path / "got"), "--token-file", steward)
    assert code == 0, err
    assert (tmp_path / "got" / "interim.pdf").read_bytes() == PDF
    assert hashlib.sha256(PDF).hexdigest() in out

    code, out, err = run(capsys, "findings", "object", report_id, "--text",
                         "Suppress the cell of 3 in table 2.", "--token-file", steward)
    assert code == 0, err
    objection = re.search(r"objection (\d+)", out).group(1)
    hub.clock.offset += dt.timedelta(days=8)
    code, out, err = run(capsys, "findings", "release", report_id, "--token-file", researcher)
    assert code == 5 and out == ""  # 409: the objection stands
    assert err.startswith("fedlink: error:") and "objection" in err and len(
        err.strip().splitlines()) == 1
    code, out, err = run(capsys, "findings", "withdraw", report_id, objection,
                         "--token-file", steward)
    assert code == 0, err
    code, out, err = run(capsys, "findings", "release", report_id, "--token-file", researcher)
    assert code == 0, err
    assert f"/v1/public/findings/{report_id}" in out

    code, out, err = run(capsys, "findings", "deliverables", rid, "--token-file", researcher)
    assert code == 0, err
    assert "released  interim Interim report" in out and "due       final   Final paper" in out

    code, out, err = run(capsys, "publication", "add", rid, "--citation",
                         "Researcher, A. (2027). Early grades.", "--published", "2027-06-01",
                         "--doi", "10.1234/jed.2027.42", "--report", report_id,
                         "--token-file", researcher)
    assert code == 0, err
    code, out, err = run(capsys, "publication", "list")
    assert code == 0, err
    assert out.strip() == (f"2027-06-01  {rid:<18} Researcher, A. (2027). Early grades."
                           "  doi:10.1234/jed.2027.42")


def test_cli_upload_refuses_unknown_suffix(cli_hub: Any, tmp_path: Path, capsys: Any) -> None:
    researcher = write_token(tmp_path, "researcher", cli_hub.token("researcher"))
    page = tmp_path / "report.html"
    page.write_text("<html></html>")
    code, out, err = run(capsys, "findings", "upload", "prj-x", str(page), "--title", "T",
                         "--token-file", researcher)
    assert code != 0 and out == ""
    assert err.strip() == f"fedlink: error: {page}: give a .pdf, .docx, .txt or .md file"
