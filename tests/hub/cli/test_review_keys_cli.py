"""``fedlink review keygen | register-key | roster … | approve --key-file | revoke``,
in process against a hub app through :func:`fedlink.cli.main`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fedlink import hub_options
from fedlink.cli import main
from hub.settings import DEFAULT_CRITERIA

#: Every criterion of the default review checklist, met (an approval answers them all).
CRITERIA = [arg for cid, _ in DEFAULT_CRITERIA for arg in ("--criterion", cid)]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _public_key(output: str) -> str:
    return next(line.split()[-1] for line in output.splitlines() if "public key:" in line)


@pytest.fixture
def cli_hub(hub, monkeypatch):
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


def test_members_generate_keys_sign_roster_approve_and_revoke(cli_hub, tmp_path, capsys) -> None:
    hub = cli_hub
    members = []
    for name in ("alice", "bob", "carol"):
        token = _token_file(tmp_path, name, hub.token("governance"))
        key = tmp_path / f"{name}.pem"
        code, out, err = run(capsys, "review", "keygen", "--key-file", str(key))
        assert code == 0, err
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        code, _, err = run(capsys, "review", "register-key", "--key-file", str(key),
                           "--token-file", token)
        assert code == 0, err
        members.append((name, token, str(key), _public_key(out)))
    proposal = tmp_path / "roster.json"
    args = ["review", "roster", "propose", "--out", str(proposal), "--quorum", "2",
            "--token-file", members[0][1]]
    for name, _, _, public in members:
        args += ["--member", f"{name}={public}"]
    code, out, err = run(capsys, *args)
    assert code == 0 and "roster version 1" in out, err
    fingerprint = out.split("fingerprint ")[1].split()[0]
    for signer, (_, _, key, _) in enumerate(members[:2]):
        code, _, err = run(capsys, "review", "roster", "sign", str(proposal), "--key-file", key)
        assert code == 0, err
        if signer == 0:  # one signature is below the roster's own quorum of 2
            code, _, err = run(capsys, "review", "roster", "submit", str(proposal),
                               "--token-file", members[0][1])
            assert code != 0 and "roster_not_quorum" in err
    code, out, err = run(capsys, "review", "roster", "submit", str(proposal),
                         "--token-file", members[0][1])
    assert code == 0 and fingerprint in out, err
    code, out, _ = run(capsys, "review", "roster", "show", "--token-file", members[2][1])
    assert fingerprint in out and "quorum 2" in out

    researcher = hub.token("researcher", email="ada@uni.example")
    request_id = hub.submitted_request(researcher)
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    code, _, err = run(capsys, "review", "approve", request_id, "--token-file", members[0][1])
    assert code != 0 and "signature_required" in err and "Traceback" not in err
    for _, token, key, _ in members[:2]:
        code, out, err = run(capsys, "review", "approve", request_id, "--token-file", token,
                             "--key-file", key, *CRITERIA)
        assert code == 0, err
    assert "is approved" in out
    code, out, err = run(capsys, "review", "revoke", request_id, "--token-file", members[2][1],
                         "--key-file", members[2][2], "--reason", "consent withdrawn")
    assert code == 0 and f"revoked {request_id}" in out, err
    assert hub.status(request_id, researcher) == "revoked"


def test_keygen_refuses_to_overwrite_a_key(cli_hub, tmp_path, capsys) -> None:
    key = tmp_path / "k.pem"
    assert run(capsys, "review", "keygen", "--key-file", str(key))[0] == 0
    code, _, err = run(capsys, "review", "keygen", "--key-file", str(key))
    assert code != 0 and "already exists" in err


def test_key_file_readable_by_others_refused(cli_hub, tmp_path, capsys) -> None:
    key = tmp_path / "k.pem"
    assert run(capsys, "review", "keygen", "--key-file", str(key))[0] == 0
    key.chmod(0o644)
    token = _token_file(tmp_path, "m", cli_hub.token("governance"))
    code, _, err = run(capsys, "review", "register-key", "--key-file", str(key),
                       "--token-file", token)
    assert code != 0 and "readable by others" in err
