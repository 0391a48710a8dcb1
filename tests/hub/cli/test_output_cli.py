"""``fedlink output``: researchers submit and follow, stewards list, read, release and
return — in process against a hub app through :func:`fedlink.cli.main`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from fedlink import hub_options
from fedlink.cli import main
from tests.hub.web.test_web_outputs import LEAKY, SAFE, ready_project, submit_output


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cli_hub(hub: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(hub_options, "transport", hub.client._transport)
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    monkeypatch.delenv("FEDLINK_TOKEN", raising=False)
    return hub


def _token_file(tmp_path: Path, name: str, token: str) -> str:
    path = tmp_path / f"{name}.token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    return str(path)


def test_researcher_submits_and_stewards_release_from_the_cli(cli_hub: Any, tmp_path: Path,
                                                              capsys: Any) -> None:
    hub = cli_hub
    researcher = hub.token("researcher")
    project = ready_project(hub, researcher)
    table = tmp_path / "table.csv"
    table.write_text(SAFE, encoding="utf-8")
    mine = _token_file(tmp_path, "researcher", researcher)
    code, out, err = run(capsys, "output", "submit", project, "--csv", str(table), "--name",
                         "Enrolment by school", "--token-file", mine)
    assert code == 0, err
    output_id = out.split()[0]
    assert output_id.startswith("out-") and "pending_review" in out
    assert "automatic checks: passed, 0 findings" in out

    k12 = _token_file(tmp_path, "k12", hub.token("steward", agency="K12"))
    code, out, err = run(capsys, "output", "list", "--pending", "--token-file", k12)
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()] == [output_id]
    code, out, err = run(capsys, "output", "release", output_id, "--token-file", k12)
    assert (code, out.strip()) == (0, f"output {output_id} is pending_review"), err
    he = _token_file(tmp_path, "he", hub.token("steward", agency="HE"))
    code, out, err = run(capsys, "output", "release", output_id, "--token-file", he)
    assert (code, out.strip()) == (0, f"output {output_id} is released"), err

    saved = tmp_path / "back.csv"
    code, out, err = run(capsys, "output", "show", output_id, "--csv", str(saved),
                         "--token-file", mine)
    assert code == 0, err
    assert "K12 released it" in out and "HE released it" in out
    assert saved.read_text(encoding="utf-8") == SAFE
    code, out, _ = run(capsys, "output", "list", "--pending", "--token-file", k12)
    assert out.strip() == "no outputs"


def test_return_needs_comments_and_refusals_exit_by_class(cli_hub: Any, tmp_path: Path,
                                                          capsys: Any) -> None:
    hub = cli_hub
    researcher = hub.token("researcher")
    project = ready_project(hub, researcher)
    output = submit_output(hub, researcher, project)
    k12 = _token_file(tmp_path, "k12", hub.token("steward", agency="K12"))
    code, _, err = run(capsys, "output", "return", output["id"], "--token-file", k12)
    assert code == 2 and err.strip() == ("fedlink: error: returning an output needs "
                                         "--comments for the researcher")
    code, out, err = run(capsys, "output", "return", output["id"], "--comments",
                         "Pine is small", "--token-file", k12)
    assert (code, out.strip()) == (0, f"output {output['id']} is returned"), err
    code, _, err = run(capsys, "output", "release", output["id"], "--token-file", k12)
    assert code == 5 and "the output is returned" in err  # 409 not_pending
    governance = _token_file(tmp_path, "gov", hub.token("governance"))
    code, _, err = run(capsys, "output", "release", output["id"], "--token-file", governance)
    assert code == 3 and err.startswith("fedlink: error: ")  # 403: stewards only
    code, _, err = run(capsys, "output", "show", "out-nothere", "--token-file", k12)
    assert code == 4


def test_submit_shows_the_findings_of_a_returned_table(cli_hub: Any, tmp_path: Path,
                                                       capsys: Any) -> None:
    hub = cli_hub
    researcher = hub.token("researcher")
    project = ready_project(hub, researcher)
    table = tmp_path / "leaky.csv"
    table.write_text(LEAKY, encoding="utf-8")
    code, out, err = run(capsys, "output", "submit", project, "--csv", str(table), "--name",
                         "Leaky", "--token-file", _token_file(tmp_path, "r", researcher))
    assert code == 0, err
    assert "returned" in out.splitlines()[0] and "- small_cell at " in out
    assert "returned at once: fix the findings above" in out
    code, _, err = run(capsys, "output", "submit", project, "--csv", str(table), "--name",
                       "x", "--kind", "pie", "--token-file",
                       _token_file(tmp_path, "r2", researcher))
    assert code == 2 and "--kind must be one of frequency, means, records" in err
