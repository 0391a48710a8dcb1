"""fedlink_client.cli (``fedlink-client``): key generation, one-line errors with the exit
codes of the contract, --version, and commands against the real hub app."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import fedlink_client.cli as cli
import pytest
from fedlink_client import Client, __version__

Hub = Any
SCRIPT = Path(sys.executable).with_name("fedlink-client")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version_from_the_installed_script() -> None:
    done = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, f"fedlink-client {__version__}")


def test_key_generate_prints_the_public_key(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "me.key"
    code, out, _ = run(capsys, "key", "generate", str(key))
    assert code == 0 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert out.splitlines()[-1].startswith("public key: ") and len(out.split()[-1]) == 43
    code, _, err = run(capsys, "key", "generate", str(key))
    assert code == 2 and err.startswith("fedlink-client: error: ") and "already exists" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["request"])
    assert exit_.value.code == 2
    code, _, err = run(capsys, "--hub", "hub.example.org", "whoami")
    assert code == 2 and "must start with http:// or https://" in err


def test_unreachable_hub_exits_6_in_one_line(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDLINK_TOKEN", "t")
    monkeypatch.setattr(cli, "_client", lambda args, token=True: Client(
        args.hub, from_env=False, token="t", retry=cli_retry()))
    code, out, err = run(capsys, "--hub", "http://127.0.0.1:9", "whoami")
    assert code == 6 and out == ""
    assert err == "fedlink-client: error: the hub at http://127.0.0.1:9 cannot be reached " \
                  "(ConnectError)\n"


def cli_retry() -> Any:
    from fedlink_client import RetryPolicy

    return RetryPolicy(retries=0)


@pytest.fixture
def in_process(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Hub:
    """The CLI's clients talk to the in-process hub."""
    def client(args: Any, *, token: bool = True) -> Client:
        return Client(args.hub, token_file=args.token_file if token else None,
                      transport=hub.client._transport)

    monkeypatch.setattr(cli, "_client", client)
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    monkeypatch.delenv("FEDLINK_TOKEN", raising=False)
    monkeypatch.delenv("FEDLINK_TOKEN_FILE", raising=False)
    return hub


def test_login_catalog_request_and_status(in_process: Hub, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    hub = in_process
    invited = hub.client.post("/v1/invitations", headers=hub.auth(hub.admin_token),
                              json={"name": "Ada", "role": "researcher",
                                    "email": "ada@uni.example"}).json()
    monkeypatch.setenv("FEDLINK_INVITATION", invited["code"])
    token = tmp_path / "token"
    code, out, err = run(capsys, "--hub", "http://hub.test", "login", "--token-out", str(token))
    assert code == 0, err
    assert stat.S_IMODE(token.stat().st_mode) == 0o600 and "signed in as Ada" in out
    common = ("--hub", "http://hub.test", "--token-file", str(token))
    code, out, err = run(capsys, *common, "whoami")
    assert code == 0 and out.startswith("Ada (researcher")
    code, out, _ = run(capsys, *common, "catalog", "--agency", "K12")
    assert code == 0 and out.startswith("K12") and "grade" in out
    code, out, _ = run(capsys, *common, "catalog", "--json")
    assert {row["agency"] for row in json.loads(out)} == {"K12", "HE"}
    key = tmp_path / "me.key"
    run(capsys, "key", "generate", str(key))
    agreement = tmp_path / "agreement.json"
    agreement.write_text(json.dumps(hub.agreement()))
    code, out, err = run(capsys, *common, "request", "create", str(agreement), "--key-file",
                         str(key))
    assert code == 0, err
    request_id = out.split()[1]
    assert "sealed to your key" in out
    code, out, _ = run(capsys, *common, "request", "submit", request_id)
    assert code == 0 and out == f"request {request_id}: submitted\n"
    code, out, _ = run(capsys, *common, "request", "status", request_id)
    assert code == 0 and out.startswith(f"request {request_id}: submitted; waiting for")
    code, out, _ = run(capsys, *common, "request", "show", request_id)
    assert json.loads(out)["agreement"]["extract"]["recipient_public_key"]
    code, _, err = run(capsys, *common, "request", "submit", request_id)
    assert code == 5 and "illegal_transition (409)" in err
    code, _, err = run(capsys, *common, "request", "show", "P-nope")
    assert code == 4 and err.count("\n") == 1
    code, out, _ = run(capsys, *common, "extract", "list")
    assert code == 0 and out == "no extracts\n"
    bad = tmp_path / "bad-token"
    bad.write_text("not-a-token\n")
    bad.chmod(0o600)
    code, _, err = run(capsys, "--token-file", str(bad), "whoami")
    assert code == 3 and "(401)" in err
