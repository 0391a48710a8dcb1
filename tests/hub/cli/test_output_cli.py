"""``fedlink output``: researchers submit and follow, stewards list, read, release and
return — in process against a hub app through :func:`fedlink.cli.main`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli_support import run, write_token
from tests.hub.web.test_web_outputs import LEAKY, SAFE, ready_project, submit_output


def test_researcher_submits_and_stewards_release_from_the_cli(cli_hub: Any, tmp_path: Path,
                                                              capsys: Any) -> None:
    hub = cli_hub
    researcher = hub.token("researcher")
    project = ready_project(hub, researcher)
    table = tmp_path / "table.csv"
    table.write_text(SAFE, encoding="utf-8")
    mine = write_token(tmp_path, "researcher", researcher)
    code, out, err = run(capsys, "output", "submit", project, "--csv", str(table), "--name",
                         "Enrolment by school", "--token-file", mine)
    assert code == 0, err
    output_id = out.split()[0]
    assert output_id.startswith("out-") and "pending_review" in out
    assert "automatic checks: passed, 0 findings" in out

    k12 = write_token(tmp_path, "k12", hub.token("steward", agency="K12"))
    code, out, err = run(capsys, "output", "list", "--pending", "--token-file", k12)
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()] == [output_id]
    code, out, err = run(capsys, "output", "release", output_id, "--token-file", k12)
    assert (code, out.strip()) == (0, f"output {output_id} is pending_review"), err
    he = write_token(tmp_path, "he", hub.token("steward", agency="HE"))
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
    k12 = write_token(tmp_path, "k12", hub.token("steward", agency="K12"))
    code, _, err = run(capsys, "output", "return", output["id"], "--token-file", k12)
    assert code == 2 and err.strip() == ("fedlink: error: returning an output needs "
                                         "--comments for the researcher")
    code, out, err = run(capsys, "output", "return", output["id"], "--comments",
                         "Pine is small", "--token-file", k12)
    assert (code, out.strip()) == (0, f"output {output['id']} is returned"), err
    code, _, err = run(capsys, "output", "release", output["id"], "--token-file", k12)
    assert code == 5 and "the output is returned" in err  # 409 not_pending
    governance = write_token(tmp_path, "gov", hub.token("governance"))
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
                         "Leaky", "--token-file", write_token(tmp_path, "r", researcher))
    assert code == 0, err
    assert "returned" in out.splitlines()[0] and "- small_cell at " in out
    assert "returned at once: fix the findings above" in out
    code, _, err = run(capsys, "output", "submit", project, "--csv", str(table), "--name",
                       "x", "--kind", "pie", "--token-file",
                       write_token(tmp_path, "r2", researcher))
    assert code == 2 and "--kind must be one of frequency, means, records" in err
