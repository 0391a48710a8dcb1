"""``fedlink run start|list|status`` against the in-process hub; a run that fails is shown
with the node and the reason, and ``status --wait`` exits non-zero for it."""

from __future__ import annotations

from typing import Any

import pytest

from fedlink import hub_options
from fedlink.cli import main
from hub.services.run_worker import LinkageWorker


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_commands_start_list_and_follow_a_run(hub: Any, capsys: Any,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  token_file: Any) -> None:
    monkeypatch.setattr(hub_options, "transport", hub.client._transport)
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher)
    for agency in ("K12", "HE"):
        hub.decide(request_id, agency)
    for _ in range(2):
        hub.review(request_id, hub.token("governance"))
    governance = hub.token("governance")
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    monkeypatch.setenv("FEDLINK_TOKEN", governance)

    code, out, err = run(capsys, "run", "start", request_id)
    assert code == 0, err
    run_id = out.split()[1]
    assert f"run {run_id} of {request_id} queued" in out
    code, out, _ = run(capsys, "run", "list", request_id)
    assert code == 0 and out.startswith(f"{run_id}  queued")
    # The agreement's annual refresh: none scheduled before a run succeeded.
    assert "refresh (annual): none scheduled — no succeeded linkage run yet" in out
    code, out, _ = run(capsys, "run", "status", request_id)
    assert code == 0 and f"run {run_id} of {request_id}: queued" in out

    # The conftest's agencies sit at plain-http, non-loopback URLs: the worker refuses to
    # send them a signed request, and the run fails naming the agency.
    worker = LinkageWorker(hub.ctx, worker_id="cli-test")
    try:
        assert worker.run_once() == run_id
    finally:
        worker.close()
    code, out, err = run(capsys, "run", "status", request_id, "--run", run_id, "--wait",
                         "--token-file", token_file(researcher))
    assert code == 1
    assert f"run {run_id} of {request_id}: failed" in out
    assert "failed (node K12): insecure_node_url: agency K12: node URL http://k12:8101 is " \
        "plain http" in out
    assert "node K12     failed" in out and "node HE      pending" in out
    assert "fedlink: error: run " in err and "failed: insecure_node_url" in err
    code, out, err = run(capsys, "run", "status", request_id, "--report", "r.html")
    assert code == 2 and "only a succeeded run has a report" in err
    code, out, err = run(capsys, "run", "start", request_id, "--token-file", token_file(researcher))
    assert code == 3 and "forbidden (403)" in err  # auth: exit 3 (issue 19)
