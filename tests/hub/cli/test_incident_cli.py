"""``fedlink incident …``: governance opens, contains (signed with the member's key file once
a roster exists), reads the access report, notifies and closes an incident. In process
against a hub app through :func:`fedlink.cli.main`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedlink import hub_options
from protocol.keyfiles import private_key_to_pem
from tests.cli_support import run, write_token
from tests.hub.api.test_hub_incidents import approved_project


@pytest.fixture
def cli_hub(make_hub: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    hub = make_hub(allow_insecure_http=True)  # the test nodes' URLs are http://k12:8101…
    hub.enroll("K12")
    hub.enroll("HE")
    monkeypatch.setattr(hub_options, "transport", hub.client._transport)
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    monkeypatch.delenv("FEDLINK_TOKEN", raising=False)
    return hub


def _open(capsys: Any, token: str, rid: str) -> str:
    code, out, err = run(capsys, "incident", "open", "--title", "Stolen laptop",
                         "--description", "The RA's laptop.", "--severity", "high",
                         "--project", rid, "--data", "K12:gpa,sped_flag", "--token-file", token)
    assert code == 0, err
    match = re.search(r"opened (inc-[0-9a-f]+)", out)
    assert match, out
    return match.group(1)


def test_cli_open_contain_report_notify_close(cli_hub: Any, tmp_path: Path,
                                              capsys: Any) -> None:
    hub = cli_hub
    (_, researcher), rid = approved_project(hub)
    token = write_token(tmp_path, "gov", hub.token("governance"))
    incident = _open(capsys, token, rid)
    code, out, _ = run(capsys, "incident", "list", "--token-file", token)
    assert code == 0 and incident in out and "open" in out
    code, out, err = run(capsys, "incident", "contain", incident, "--token-file", token)
    assert code == 0, err
    assert "project revoked (revocation hub_only)" in out and "1 tokens revoked" in out
    assert "0 still live" in out
    assert hub.client.get("/v1/me", headers=hub.auth(researcher)).status_code == 401
    code, out, err = run(capsys, "incident", "report", incident, "--json", "--token-file",
                         token)
    assert code == 0, err
    actions = {e["action"] for e in json.loads(out)["hub_events"]}
    assert {"request.submitted", "request.revoked", "token.revoked"} <= actions
    code, out, _ = run(capsys, "incident", "notify", incident, "--token-file", token)
    assert code == 0 and "nothing sent" in out
    code, out, err = run(capsys, "incident", "close", incident, "--resolution",
                         "Disk encrypted; laptop recovered.", "--token-file", token)
    assert code == 0, err
    code, out, _ = run(capsys, "incident", "show", incident, "--token-file", token)
    assert "[closed, high]" in out
    assert [line.split()[1] for line in out.splitlines()[2:]] == [
        "incident.opened", "incident.contained", "incident.access_report",
        "incident.notified", "incident.closed"]


def test_cli_contain_signs_the_revocation_with_the_member_key(cli_hub: Any, tmp_path: Path,
                                                              capsys: Any) -> None:
    hub = cli_hub
    _, rid = approved_project(hub)
    members = [hub.token("governance"), hub.token("governance")]
    keys, _ = hub.roster(members)
    pushed: list[str] = []

    def node(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/governance/revocations"
        pushed.append(str(request.url.host))
        return httpx.Response(200, json={"recorded": True})

    hub.app.state.node_transport = httpx.MockTransport(node)
    token = write_token(tmp_path, "gov", members[0])
    incident = _open(capsys, token, rid)
    code, _, err = run(capsys, "incident", "contain", incident, "--token-file", token)
    assert code != 0 and "signed by a roster member" in err
    key_file = tmp_path / "member.pem"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_key_to_pem(keys[0]))
    code, out, err = run(capsys, "incident", "contain", incident, "--key-file", str(key_file),
                         "--token-file", token)
    assert code == 0, err
    assert "(revocation signed); nodes told: HE, K12; not yet: none" in out
    assert sorted(pushed) == ["he", "k12"]
