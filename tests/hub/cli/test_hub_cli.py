"""``fedlink hub|request|review|audit`` commands, in process through :func:`fedlink.cli.main`."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedlink import hub_options
from fedlink.cli import main
from hub.api.app import create_app
from hub.settings import DEFAULT_CRITERIA, HubSettings
from protocol.keyfiles import public_key_to_b64, public_key_to_pem
from protocol.signing import sign
from protocol.wire import StewardDecision

#: Every criterion of the default review checklist, met (an approval answers them all).
CRITERIA = [arg for cid, _ in DEFAULT_CRITERIA for arg in ("--criterion", cid)]

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _token(output: str) -> str:
    match = re.search(r"(?:token|code)[^:]*: (\S+)\s*$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


@pytest.fixture
def hub_dir(tmp_path: Path, capsys) -> tuple[Path, str]:
    directory = tmp_path / "hub"
    code, out, err = run(capsys, "hub", "init", "--dir", str(directory))
    assert code == 0, err
    return directory, _token(out)


def test_init_creates_private_keys_schema_and_admin_token(hub_dir, capsys) -> None:
    directory, token = hub_dir
    assert token.startswith("flu_")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in ("signing.key", "hpke.key", "hub.db"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, name
    assert (directory / "hub.toml").is_file()
    code, _, err = run(capsys, "hub", "init", "--dir", str(directory))
    assert code != 0 and err.startswith("fedlink: error:") and "already holds a hub" in err
    assert token not in (directory / "hub.db").read_bytes().decode("latin-1")


def _person(capsys, monkeypatch, directory: Path, role: str, *extra: str,
            approvers: tuple[Path, ...] = ()) -> Path:
    """Invite (operator), redeem (the person, code from FEDLINK_INVITATION, token into a new
    0600 file), then the approvers' quorum approves a privileged account; the token file."""
    code, out, err = run(capsys, "hub", "user", "add", "--dir", str(directory), "--role", role,
                         "--name", role.title(), *extra)
    assert code == 0, err
    monkeypatch.setenv("FEDLINK_INVITATION", _token(out))
    token_out = directory.parent / f"{role}-{len(list(directory.parent.iterdir()))}.token"
    code, out, err = run(capsys, "user", "redeem", "--token-out", str(token_out))
    monkeypatch.delenv("FEDLINK_INVITATION")
    assert code == 0, err
    assert stat.S_IMODE(token_out.stat().st_mode) == 0o600
    if "pending" in out:
        user_id = re.search(r"user (\d+)", out).group(1)
        for approver in approvers:
            code, out, err = run(capsys, "user", "approve", user_id, "--token-file",
                                 str(approver))
            assert code == 0, err
        assert "is active" in out, out
    return token_out


def test_user_add_and_agency_add(hub_dir, capsys) -> None:
    directory, _ = hub_dir
    code, out, err = run(capsys, "hub", "user", "add", "--dir", str(directory), "--role",
                         "governance", "--name", "Gail", "--email", "gail@state.example")
    assert code == 0, err
    assert "governance" in out and _token(out).startswith("fli_")
    assert "flu_" not in out  # an invitation, never a token
    code, out, err = run(capsys, "hub", "agency", "add", "K12", "--dir", str(directory),
                         "--name", "Department of Education", "--url", "http://k12:8101")
    assert code == 0, err
    assert _token(out.splitlines()[1]).startswith("fle_")
    code, _, err = run(capsys, "hub", "user", "add", "--dir", str(directory), "--role",
                       "steward", "--name", "Sam")
    assert code == 2 and "bound to an agency" in err
    code, _, err = run(capsys, "hub", "user", "add", "--dir", str(tmp := directory / "nope"),
                       "--role", "auditor", "--name", "A")
    assert code == 2 and str(tmp) in err


def test_audit_verify_dir_passes_then_names_the_altered_event(hub_dir, capsys) -> None:
    directory, _ = hub_dir
    run(capsys, "hub", "agency", "add", "K12", "--dir", str(directory), "--name", "K12",
        "--url", "http://k12:8101")
    code, out, err = run(capsys, "audit", "verify", "--dir", str(directory))
    assert code == 0, err
    assert "intact: 3 events" in out
    with sqlite3.connect(directory / "hub.db") as db:
        db.execute("UPDATE audit_events SET outcome = 'refused' WHERE seq = 2")
    code, out, err = run(capsys, "audit", "verify", "--dir", str(directory))
    assert code != 0
    assert err.strip() == "fedlink: error: audit event 2 was altered (hash mismatch)"


def test_unsafe_key_file_refused(hub_dir, capsys) -> None:
    directory, _ = hub_dir
    (directory / "signing.key").chmod(0o644)
    code, _, err = run(capsys, "audit", "verify", "--dir", str(directory))
    assert code != 0 and "readable by others" in err


@pytest.fixture
def served(hub_dir, monkeypatch, capsys):
    """The hub of ``hub_dir`` served in process; CLI API commands go to it."""
    directory, admin = hub_dir
    client = TestClient(create_app(HubSettings.load(directory)))
    monkeypatch.setattr(hub_options, "transport", client._transport)
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    yield directory, admin, client
    client.close()


def _enroll(client, admin: str, code: str, variables: list[dict]) -> tuple[str, object]:
    auth = {"Authorization": f"Bearer {admin}"}
    created = client.post("/v1/agencies", headers=auth,
                          json={"code": code, "name": code, "url": "http://n:1"}).json()
    key = Ed25519PrivateKey.generate()
    enrolled = client.post("/v1/enrollment", json={
        "agency": code, "signing_public_key": public_key_to_b64(key.public_key()),
        "enrollment_token": created["enrollment_token"], "dictionary": variables}).json()
    return enrolled["node_token"], key


def test_request_review_and_audit_commands_end_to_end(served, tmp_path, capsys,
                                                       monkeypatch) -> None:
    directory, admin, client = served
    node_token, node_key = _enroll(client, admin, "K12", [
        {"name": "grade", "type": "integer", "years": [2018, 2019], "classification": "internal"}])
    tokens: dict[str, list[str]] = {}
    for role in ("researcher", "governance", "governance", "auditor"):
        # The two governance members are the bootstrap; they then approve the auditor.
        path = _person(capsys, monkeypatch, directory, role,
                       approvers=tuple(Path(t) for t in tokens.get("governance", [])))
        tokens.setdefault(role, []).append(str(path))
    agreement = tmp_path / "dsa.toml"
    agreement.write_text("""
title = "Grades over time"
institution = "State University"
research_questions = ["How do grades change?"]
public_summary = "Grade trajectories."
scope_and_deliverables = "A report."
allowable_uses = ["statistics"]
cohort_description = "Everyone."
security_plan = "Locked room."
term_start = 2026-01-01
term_end = 2026-12-31
refresh_frequency = "once"
matching_authorised = false
disposition = "destroy"
interim_findings_plan = "None planned."
[[variables]]
agency = "K12"
variables = ["grade"]
first_year = 2018
last_year = 2019
[[personnel]]
name = "R"
role = "PI"
institution = "State University"
[[agency_contacts]]
agency = "K12"
name = "K"
email = "k@k12.example"
[irb]
status = "exempt"
board = "SU IRB"
protocol_number = "X-1"
approval_date = 2025-01-02
""")
    researcher = tokens["researcher"][0]
    code, out, err = run(capsys, "request", "new", str(agreement), "--token-file", researcher,
                         "--submit")
    assert code == 0, err
    request_id = re.search(r"request (\S+) is submitted", out).group(1)
    code, out, _ = run(capsys, "request", "list", "--token-file", researcher)
    assert request_id in out and "submitted" in out
    code, out, _ = run(capsys, "review", "list", "--token-file", tokens["governance"][0])
    assert request_id in out
    code, _, err = run(capsys, "review", "deny", request_id, "--token-file",
                       tokens["governance"][0])
    assert code == 2 and "needs --reason" in err
    for token in tokens["governance"]:
        code, out, err = run(capsys, "review", "approve", request_id, "--token-file", token,
                             *CRITERIA)
        assert code == 0, err
    assert "waiting for: agency K12" in out
    terms = client.get(f"/v1/node/requests/{request_id}/terms",
                       headers={"Authorization": f"Bearer {node_token}"}).json()
    envelope = sign(StewardDecision(project_id=request_id, agency="K12", decision="approve",
                                    terms_digest=terms["terms_digest"],
                                    decided_at="2026-01-01T00:00:00Z"),
                    typ="steward_decision", private_key=node_key)
    client.post(f"/v1/node/requests/{request_id}/decision", content=envelope.to_json(),
                headers={"Authorization": f"Bearer {node_token}"})
    code, out, _ = run(capsys, "request", "status", request_id, "--token-file", researcher)
    assert out.startswith(f"{request_id}  approved")
    code, _, err = run(capsys, "request", "withdraw", request_id, "--token-file", researcher)
    assert code == 5 and "illegal_transition (409)" in err  # conflict: exit 5

    auditor = tokens["auditor"][0]
    code, out, _ = run(capsys, "audit", "search", "--token-file", auditor, "--project", request_id)
    assert "request.approved" in out
    code, out, _ = run(capsys, "audit", "export", "--token-file", auditor, "--format", "jsonl")
    assert json.loads(out.splitlines()[0])["seq"] == 1
    pem = tmp_path / "hub.pem"
    from hub.keys import load_hub_keys

    pem.write_bytes(public_key_to_pem(load_hub_keys(directory).signing_public))
    code, out, err = run(capsys, "audit", "verify", "--hub", "http://hub.test", "--token-file",
                         auditor, "--hub-key", str(pem))
    assert code == 0, err
    assert "verified locally" in out and "pinned key" in out
    code, _, err = run(capsys, "audit", "verify", "--hub", "http://hub.test",
                       "--token-file", researcher)
    assert code != 0 and "forbidden (403)" in err


def test_online_verify_detects_tampering(served, capsys, monkeypatch) -> None:
    directory, _, _ = served
    members = tuple(_person(capsys, monkeypatch, directory, "governance") for _ in range(2))
    auditor = str(_person(capsys, monkeypatch, directory, "auditor", approvers=members))
    with sqlite3.connect(directory / "hub.db") as db:
        db.execute("DELETE FROM audit_events WHERE seq = 1")
    code, _, err = run(capsys, "audit", "verify", "--hub", "http://hub.test", "--token-file",
                       auditor)
    assert code != 0 and "audit event 1 is missing" in err


def test_api_commands_need_url_and_token(capsys, monkeypatch) -> None:
    monkeypatch.delenv("FEDLINK_HUB_URL", raising=False)
    monkeypatch.delenv("FEDLINK_TOKEN", raising=False)
    code, _, err = run(capsys, "request", "list")
    assert code == 2 and "--hub URL" in err
    code, _, err = run(capsys, "request", "list", "--hub", "http://h")
    assert code == 2 and "FEDLINK_TOKEN" in err and "--token-file" in err


def test_token_flag_is_gone_from_every_command(capsys) -> None:
    """No command takes a token as a flag value (visible in `ps` and shell history)."""
    for args in (("request", "list"), ("review", "list"), ("audit", "search"),
                 ("run", "list", "P"), ("extract", "list"), ("user", "pending"),
                 ("node", "enroll", "--dir", "x", "--hub", "http://h")):
        code, _, err = run(capsys, *args, "--token", "flu_secret")
        assert code == 2 and "No such option: --token" in err, args
    from typer.main import get_command

    from fedlink.cli import app

    def options(command, path=()):
        for name, sub in getattr(command, "commands", {}).items():
            yield from options(sub, (*path, name))
        for param in getattr(command, "params", []):
            yield path, param.opts

    for path, opts in options(get_command(app)):
        assert "--token" not in opts and "--code" not in opts, path


def test_token_file_missing_unsafe_or_empty_refused_in_one_line(served, tmp_path, capsys,
                                                                 monkeypatch) -> None:
    monkeypatch.delenv("FEDLINK_TOKEN", raising=False)
    missing = tmp_path / "none.token"
    code, _, err = run(capsys, "request", "list", "--token-file", str(missing))
    assert code == 2 and err.strip() == f"fedlink: error: API token file {missing} does not exist"
    loose = tmp_path / "loose.token"
    loose.write_text("flu_x\n")
    loose.chmod(0o644)
    code, _, err = run(capsys, "request", "list", "--token-file", str(loose))
    assert code == 2 and "readable by others (mode 0644)" in err and len(err.splitlines()) == 1
    empty = tmp_path / "empty.token"
    empty.write_text("\n")
    empty.chmod(0o600)
    code, _, err = run(capsys, "request", "list", "--token-file", str(empty))
    assert code == 2 and "must hold exactly one API token" in err


def test_token_from_environment_or_file(served, capsys, monkeypatch) -> None:
    directory, _, _ = served
    path = _person(capsys, monkeypatch, directory, "researcher")
    monkeypatch.setenv("FEDLINK_TOKEN", path.read_text().strip())
    code, _, err = run(capsys, "request", "list")
    assert code == 0, err
    monkeypatch.delenv("FEDLINK_TOKEN")
    monkeypatch.setenv("FEDLINK_TOKEN_FILE", str(path))
    code, _, err = run(capsys, "request", "list")
    assert code == 0, err


def test_user_token_rotates_own_token_and_redeem_twice_refused(served, tmp_path, capsys,
                                                               monkeypatch) -> None:
    directory, _, client = served
    code, out, _ = run(capsys, "hub", "user", "add", "--dir", str(directory), "--role",
                       "researcher", "--name", "R")
    code_file = tmp_path / "invitation"
    code_file.write_text(_token(out) + "\n")
    code_file.chmod(0o600)
    first = tmp_path / "first.token"
    code, out, err = run(capsys, "user", "redeem", "--code-file", str(code_file),
                         "--token-out", str(first))
    assert code == 0, err
    assert first.read_text().strip() not in out
    code, _, err = run(capsys, "user", "redeem", "--code-file", str(code_file))
    assert code != 0 and "invitation_used (409)" in err
    second = tmp_path / "second.token"
    code, out, err = run(capsys, "user", "token", "--token-file", str(first), "--token-out",
                         str(second), "--label", "laptop")
    assert code == 0, err
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {second.read_text().strip()}"})
    assert me.status_code == 200 and me.json()["role"] == "researcher"
    code, out, err = run(capsys, "user", "tokens", "--token-file", str(second))
    assert code == 0 and "invitation" in out and "laptop" in out, err
    first_id = out.splitlines()[0].split("\t")[0]
    code, out, err = run(capsys, "user", "revoke", first_id, "--token-file", str(second))
    assert code == 0 and f"token {first_id} revoked" in out, err
    code, _, err = run(capsys, "request", "list", "--token-file", str(first))
    assert code != 0 and "revoked" in err


def test_governance_approves_pending_accounts_by_cli(served, capsys, monkeypatch) -> None:
    directory, _, _ = served
    gov = [_person(capsys, monkeypatch, directory, "governance") for _ in range(2)]
    code, out, err = run(capsys, "hub", "user", "add", "--dir", str(directory), "--role",
                         "auditor", "--name", "Aud")
    monkeypatch.setenv("FEDLINK_INVITATION", _token(out))
    code, out, err = run(capsys, "user", "redeem")
    assert code == 0 and "is pending" in out, err
    user_id = re.search(r"user (\d+)", out).group(1)
    code, out, _ = run(capsys, "user", "pending", "--token-file", str(gov[0]))
    assert out.startswith(f"{user_id}\tauditor\tAud") and "approvals 0/2" in out
    code, out, err = run(capsys, "user", "approve", user_id, "--token-file", str(gov[0]))
    assert code == 0 and "is pending: 1 of 2" in out, err
    code, out, err = run(capsys, "user", "approve", user_id, "--token-file", str(gov[1]))
    assert code == 0 and "is active: 2 of 2" in out, err


def test_governance_declares_a_conflict_by_cli(served, capsys, monkeypatch) -> None:
    directory, admin, client = served
    gov = _person(capsys, monkeypatch, directory, "governance", "--email", "g@gov.example")
    researcher = _person(capsys, monkeypatch, directory, "researcher")
    _enroll(client, admin, "K12", [{"name": "grade", "type": "integer", "years": [2018],
                                    "classification": "internal"}])
    from tests.hub.conftest import agreement

    body = agreement(variables=[{"agency": "K12", "variables": ["grade"], "first_year": 2018,
                                 "last_year": 2018}],
                     personnel=[{"name": "G", "role": "co-I", "institution": "U",
                                 "email": "g@gov.example"}])
    auth = {"Authorization": f"Bearer {researcher.read_text().strip()}"}
    created = client.post("/v1/requests", json=body, headers=auth)
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    client.post(f"/v1/requests/{request_id}/submit", headers=auth)
    code, _, err = run(capsys, "user", "declare-conflict", request_id, "--not-conflicted",
                       "--token-file", str(gov))
    assert code != 0 and "reason" in err
    code, out, err = run(capsys, "user", "declare-conflict", request_id, "--not-conflicted",
                         "--reason", "a namesake, not me", "--token-file", str(gov))
    assert code == 0, err
    assert "declared free of conflict (the personnel list names you)" in out
