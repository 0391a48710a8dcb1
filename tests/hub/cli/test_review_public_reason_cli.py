"""``fedlink review deny``: a denial needs an internal ``--reason`` and a
``--public-reason`` for the public list; IRB-pending approvals are refused in one line.
In process against a hub app through :func:`fedlink.cli.main`."""

from __future__ import annotations

from fedlink.commands import review
from hub.domain import approval
from tests.cli_support import run, write_token


def test_cli_deny_asks_for_the_public_reason_and_publishes_only_it(cli_hub, tmp_path,
                                                                   capsys) -> None:
    hub = cli_hub
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher, title="CLI-denied study")
    token = write_token(tmp_path, "governance", hub.token("governance"))
    code, _, err = run(capsys, "review", "deny", request_id, "--token-file", token,
                       "--reason", "the PI's data room failed inspection")
    assert code == 2 and "needs --public-reason" in err and "Traceback" not in err
    code, _, err = run(capsys, "review", "deny", request_id, "--token-file", token,
                       "--reason", "x", "--public-reason", "p" * 1001)
    assert code == 2 and "longer than 1000 characters" in err
    assert hub.status(request_id, researcher) == "submitted"  # nothing was sent

    code, out, err = run(capsys, "review", "deny", request_id, "--token-file", token,
                         "--reason", "the PI's data room failed inspection",
                         "--public-reason", "The security plan does not meet the standard.")
    assert code == 0, err
    assert f"request {request_id} is denied" in out
    public = hub.client.get("/v1/public/projects")
    assert [(d["title"], d["public_reason"]) for d in public.json()["denied_requests"]] == [
        ("CLI-denied study", "The security plan does not meet the standard.")]
    assert "inspection" not in public.text


def test_cli_approve_of_an_irb_pending_request_is_a_one_line_conflict(cli_hub, tmp_path,
                                                                      capsys) -> None:
    hub = cli_hub
    request_id = hub.submitted_request(hub.token("researcher"), irb={"status": "pending"})
    token = write_token(tmp_path, "governance", hub.token("governance"))
    code, _, err = run(capsys, "review", "approve", request_id, "--token-file", token)
    assert code == 5, err  # a conflict (docs/client.md, "Exit codes")
    assert "irb_not_approved" in err and "Traceback" not in err


def test_cli_bound_is_the_hubs() -> None:
    # The CLI keeps its own copy (it loads no hub module to start): the two must agree.
    assert review.PUBLIC_REASON_MAX == approval.PUBLIC_REASON_MAX
