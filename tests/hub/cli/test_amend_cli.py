"""``fedlink request amend|extend|renew|versions|diff|withdraw-amendment`` in process
against a hub app through :func:`fedlink.cli.main` (docs/amendments.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from tests.cli_support import run, write_token


def _approved(hub: Any) -> tuple[str, str, list[str]]:
    researcher = hub.token("researcher")
    today = hub.clock().date()
    project = hub.submitted_request(researcher, term_start=str(today - dt.timedelta(days=5)),
                                    term_end=str(today + dt.timedelta(days=100)))
    hub.decide(project, "K12")
    hub.decide(project, "HE")
    governance = [hub.token("governance"), hub.token("governance")]
    for token in governance:
        hub.review(project, token)
    assert hub.status(project, researcher) == "approved"
    return project, researcher, governance


def test_cli_extend_versions_and_diff(cli_hub: Any, tmp_path: Path, capsys: Any) -> None:
    hub = cli_hub
    project, researcher, _ = _approved(hub)
    token = write_token(tmp_path, "researcher", researcher)
    new_end = str(hub.clock().date() + dt.timedelta(days=400))
    code, _, err = run(capsys, "request", "extend", project, "--token-file", token,
                       "--term-end", new_end)
    assert code == 2 and "--reason" in err and "Traceback" not in err
    code, out, err = run(capsys, "request", "extend", project, "--token-file", token,
                         "--term-end", new_end, "--reason", "fieldwork took longer")
    assert code == 0, err
    assert f"request {project}: extension proposed as version 2" in out
    assert "agencies asked again: HE, K12" in out
    code, out, err = run(capsys, "request", "versions", project, "--token-file", token)
    assert code == 0, err
    assert "amending, version 1 in force" in out
    assert "v2  extension  proposed" in out and "fieldwork took longer" in out
    code, out, err = run(capsys, "request", "diff", project, "2", "--token-file", token,
                         "--json")
    assert code == 0, err
    changes = json.loads(out)["changes"]
    assert [c["path"] for c in changes] == ["term_end"] and changes[0]["after"] == new_end
    code, out, err = run(capsys, "request", "withdraw-amendment", project, "--token-file",
                         token)
    assert code == 0, err
    assert f"request {project}: version 2 withdrawn" in out
    assert hub.status(project, researcher) == "approved"


def test_cli_amend_from_file_and_refusals_are_one_line(cli_hub: Any, tmp_path: Path,
                                                      capsys: Any) -> None:
    hub = cli_hub
    project, researcher, _ = _approved(hub)
    token = write_token(tmp_path, "researcher", researcher)
    code, out, err = run(capsys, "request", "versions", project, "--token-file", token,
                         "--show", "1")
    assert code == 0, err
    agreement = json.loads(out)
    agreement["title"] = "Early grades, college enrolment and persistence"
    path = tmp_path / "amended.json"
    path.write_text(json.dumps(agreement))
    code, out, err = run(capsys, "request", "amend", project, str(path), "--token-file",
                         token, "--reason", "a clearer title")
    assert code == 0, err
    assert "version 2" in out
    code, _, err = run(capsys, "request", "amend", project, str(path), "--token-file", token,
                       "--reason", "again")
    assert code == 5, err  # a conflict: an amendment is already under review
    assert "not_amendable" in err and "Traceback" not in err
    code, _, err = run(capsys, "request", "renew", project, "--token-file", token,
                       "--term-end", "not-a-date", "--reason", "r")
    assert code == 2 and "not a date" in err
