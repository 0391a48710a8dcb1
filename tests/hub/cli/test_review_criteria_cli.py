"""``fedlink review approve|deny|changes --criterion/--not-met/--criteria-file`` and ``fedlink
review criteria``; ``fedlink agenda list|add|retire``. In process against a hub app through
:func:`fedlink.cli.main`."""

from __future__ import annotations

import json
from pathlib import Path

from hub.settings import DEFAULT_CRITERIA
from tests.cli_support import run

ALL_MET = [arg for cid, _ in DEFAULT_CRITERIA for arg in ("--criterion", cid)]


def _approved_by_agencies(hub) -> tuple[str, str]:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher)
    for agency in ("K12", "HE"):
        assert hub.decide(request_id, agency).status_code == 200
    return researcher, request_id


def _reviews(hub, request_id: str) -> list[dict]:
    return list(hub.client.get(f"/v1/requests/{request_id}",
                               headers=hub.auth(hub.token("governance"))).json()["reviews"])


def test_cli_lists_the_checklist(cli_hub, token_file, capsys) -> None:
    code, out, err = run(capsys, "review", "criteria", "--token-file",
                         token_file(cli_hub.token("governance")))
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()] == [c for c, _ in DEFAULT_CRITERIA]


def test_cli_approval_answers_every_criterion(cli_hub, token_file, capsys) -> None:
    hub = cli_hub
    researcher, request_id = _approved_by_agencies(hub)
    for _ in range(2):
        token = token_file(hub.token("governance"))
        code, out, err = run(capsys, "review", "approve", request_id, "--token-file", token,
                             *ALL_MET[:-2], "--criterion", f"{DEFAULT_CRITERIA[-1][0]}=k of 10")
        assert code == 0, err
    assert f"request {request_id} is approved" in out
    notes = [c["note"] for c in _reviews(hub, request_id)[0]["criteria"]]
    assert notes == ["", "", "", "", "k of 10"]
    assert hub.status(request_id, researcher) == "approved"


def test_cli_approval_missing_a_criterion_is_one_line_exit_2(cli_hub, token_file,
                                                             capsys) -> None:
    hub = cli_hub
    researcher, request_id = _approved_by_agencies(hub)
    token = token_file(hub.token("governance"))
    code, _, err = run(capsys, "review", "approve", request_id, "--token-file", token,
                       *ALL_MET[:-2])
    assert code == 2, err  # the hub answered 422 (docs/cli.md, "Exit codes")
    assert "criteria_incomplete" in err and DEFAULT_CRITERIA[-1][0] in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "review", "approve", request_id, "--token-file", token)
    assert code == 2 and "criteria_incomplete" in err
    assert _reviews(hub, request_id) == []
    assert hub.status(request_id, researcher) == "in_review"


def test_cli_not_met_needs_a_note(cli_hub, token_file, capsys) -> None:
    hub = cli_hub
    _, request_id = _approved_by_agencies(hub)
    code, _, err = run(capsys, "review", "deny", request_id, "--token-file",
                       token_file(hub.token("governance")), "--reason", "x",
                       "--public-reason", "y", "--not-met", "irb")
    assert code == 2 and "--not-met irb: say why" in err
    assert _reviews(hub, request_id) == []  # nothing was sent


def test_cli_deny_and_changes_record_the_criteria_assessed(cli_hub, token_file,
                                                           capsys) -> None:
    hub = cli_hub
    _, request_id = _approved_by_agencies(hub)
    code, _, err = run(capsys, "review", "changes", request_id, "--token-file",
                       token_file(hub.token("governance")), "--reason", "encrypt it",
                       "--not-met", "security_plan=no encryption at rest",
                       "--criterion", "irb")
    assert code == 0, err
    assert [(c["id"], c["met"], c["note"]) for c in _reviews(hub, request_id)[0]["criteria"]] \
        == [("irb", True, ""), ("security_plan", False, "no encryption at rest")]


def test_cli_criteria_file(cli_hub, token_file, tmp_path: Path, capsys) -> None:
    hub = cli_hub
    _, request_id = _approved_by_agencies(hub)
    answers = tmp_path / "criteria.json"
    answers.write_text(json.dumps([{"id": cid, "met": True, "note": f"ok {cid}"}
                                   for cid, _ in DEFAULT_CRITERIA]))
    code, _, err = run(capsys, "review", "approve", request_id, "--token-file",
                       token_file(hub.token("governance")), "--criteria-file", str(answers))
    assert code == 0, err
    assert [c["note"] for c in _reviews(hub, request_id)[0]["criteria"]] == [
        f"ok {cid}" for cid, _ in DEFAULT_CRITERIA]
    answers.write_text('{"id": "irb"}')
    code, _, err = run(capsys, "review", "approve", request_id, "--token-file",
                       token_file(hub.token("governance")), "--criteria-file", str(answers))
    assert code == 2 and "expected a JSON list" in err and "Traceback" not in err


def test_cli_agenda_add_list_retire(cli_hub, token_file, capsys) -> None:
    hub = cli_hub
    governance = token_file(hub.token("governance"))
    code, out, err = run(capsys, "agenda", "add", "Which supports raise enrolment?",
                         "--token-file", governance, "--description", "For 2028")
    assert code == 0 and "agenda item 1 added" in out, err
    researcher = token_file(hub.token("researcher"))
    code, out, _ = run(capsys, "agenda", "list", "--token-file", researcher)
    assert code == 0 and "active   Which supports raise enrolment?" in out
    code, _, err = run(capsys, "agenda", "add", "Mine?", "--token-file", researcher)
    assert code != 0 and "forbidden" in err and "Traceback" not in err
    code, out, err = run(capsys, "agenda", "retire", "1", "--token-file", governance,
                         "--reason", "answered")
    assert code == 0 and "agenda item 1 retired" in out, err
    code, out, _ = run(capsys, "agenda", "list", "--token-file", researcher, "--active")
    assert code == 0 and out.strip() == "the research agenda is empty"
    code, _, err = run(capsys, "agenda", "retire", "1", "--token-file", governance)
    assert code == 5 and "already_retired" in err
