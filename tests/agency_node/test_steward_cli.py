"""`fedlink node steward keygen | add` and `fedlink node approve --steward-key`, in process
against the fake hub (injected httpx transport)."""

from __future__ import annotations

import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

import fedlink.commands.node as node_command
from agency_node.runtime import NodeRuntime
from agency_node.store.approvals import get_approval
from fedlink.cli import main


def run(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_steward_keygen_add_and_signed_approval(
    node_dir: Path, fake_hub: object, wire: SimpleNamespace, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(node_command, "hub_transport", fake_hub.transport())
    monkeypatch.setenv("FEDLINK_NODE_ALLOW_INSECURE_HTTP", "1")
    monkeypatch.setenv("FEDLINK_ENROLLMENT_TOKEN", fake_hub.enrollment_token)
    assert run("node", "enroll", "--dir", str(node_dir), "--hub", "http://hub.test") == 0
    key = tmp_path / "steward.pem"
    assert run("node", "steward", "keygen", "--key-file", str(key)) == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    public = next(line.split()[-1] for line in out.splitlines() if "public key:" in line)
    kid = next(line.split()[-1] for line in out.splitlines() if "kid:" in line)
    assert run("node", "steward", "add", "--dir", str(node_dir), "--public-key", public,
               "--label", "Kay") == 0
    fake_hub.terms[wire.PROJECT] = wire.make_terms()
    capsys.readouterr()
    assert run("node", "approve", wire.PROJECT, "--dir", str(node_dir), "--yes") != 0
    assert "--steward-key" in capsys.readouterr().err
    assert run("node", "approve", wire.PROJECT, "--dir", str(node_dir), "--yes",
               "--steward-key", str(key)) == 0
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        approval = get_approval(session, project_id=wire.PROJECT)
        assert approval is not None and approval.decided_by == kid
    key.chmod(0o644)
    assert run("node", "deny", wire.PROJECT, "--dir", str(node_dir), "--yes", "--reason",
               "no", "--steward-key", str(key)) != 0
    assert "readable by others" in capsys.readouterr().err
