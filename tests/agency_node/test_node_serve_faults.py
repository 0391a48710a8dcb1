"""`fedlink node serve` faults: one line saying what to do, a non-zero exit, no traceback —
as a real process for a port in use and a secret file others can read, in-process for the
refusals that come before anything starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fedlink.cli import main


def fedlink_process(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "fedlink.cli", *argv], capture_output=True,
                          text=True, timeout=90, env={**os.environ, **(env or {})},
                          stdin=subprocess.DEVNULL, check=False)
    return done.returncode, done.stderr


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("fedlink: error: ")
    return lines[0]


def run(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@pytest.mark.e2e
def test_node_serve_on_a_port_in_use_says_so(served_node: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, stderr = fedlink_process("node", "serve", "--dir", str(served_node),
                                       "--port", str(port))
    assert code != 0
    assert f"port {port} on 127.0.0.1 is already in use" in one_line(stderr)
    assert "choose another --port" in stderr


@pytest.mark.e2e
def test_node_serve_with_a_secret_others_can_read_says_chmod(served_node: Path) -> None:
    (served_node / "secret.key").chmod(0o644)
    code, stderr = fedlink_process("node", "serve", "--dir", str(served_node))
    assert code != 0
    assert f"run `chmod 600 {served_node / 'secret.key'}`" in one_line(stderr)


def test_node_serve_without_secret_says_import_it(
        served_node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (served_node / "secret.key").unlink()
    assert run("node", "serve", "--dir", str(served_node)) != 0
    assert "fedlink node secret import" in one_line(capsys.readouterr().err)


def test_node_serve_refuses_plain_http_off_loopback(
        served_node: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("node", "serve", "--dir", str(served_node), "--host", "0.0.0.0") != 0
    assert "plain http on 0.0.0.0" in one_line(capsys.readouterr().err)
    monkeypatch.setenv("FEDLINK_NODE_SSL_CERTFILE", str(served_node / "none.crt"))
    assert run("node", "serve", "--dir", str(served_node)) != 0
    assert "ssl_certfile and ssl_keyfile go together" in one_line(capsys.readouterr().err)


def test_node_serve_refuses_a_tls_key_others_can_read(
        served_node: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fedlink.pki import init_ca, issue

    init_ca(tmp_path / "ca")
    cert = issue(tmp_path / "ca", name="n", out_dir=tmp_path / "tls", dns=["localhost"], ips=[])
    cert.key.chmod(0o640)
    assert run("node", "serve", "--dir", str(served_node), "--ssl-certfile",
               str(cert.certificate), "--ssl-keyfile", str(cert.key)) != 0
    assert f"chmod 600 {cert.key}" in one_line(capsys.readouterr().err)
    cert.key.chmod(0o600)
    other = issue(tmp_path / "ca", name="m", out_dir=tmp_path / "tls", dns=["x"], ips=[])
    assert run("node", "serve", "--dir", str(served_node), "--ssl-certfile",
               str(cert.certificate), "--ssl-keyfile", str(other.key)) != 0
    assert "cannot be used together" in one_line(capsys.readouterr().err)


def test_node_refuses_to_send_its_token_to_a_plain_http_hub(
        served_node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("node", "approve", "P-1", "--dir", str(served_node), "--yes") != 0
    line = one_line(capsys.readouterr().err)
    assert "http://hub.invalid is plain http" in line and "https://" in line


def test_node_refuses_a_placeholder_federation_secret(
        node_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "weak.secret").write_text("00" * 32)
    assert run("node", "secret", "import", str(tmp_path / "weak.secret"),
               "--dir", str(node_dir)) != 0
    assert "placeholder or a pattern" in one_line(capsys.readouterr().err)
    assert not (node_dir / "secret.key").exists()


@pytest.mark.parametrize("content", [bytes(32), os.urandom(10), os.urandom(33),
                                     os.urandom(32).hex().encode()],
                         ids=["zeros", "10-bytes", "33-bytes", "hex-text"])
def test_node_serve_with_a_corrupt_secret_file_refused(
        served_node: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    (served_node / "secret.key").write_bytes(content)
    assert run("node", "serve", "--dir", str(served_node)) == 2
    line = one_line(capsys.readouterr().err)
    assert f"{served_node / 'secret.key'} is corrupt" in line and "--replace" in line


@pytest.mark.parametrize("content", [bytes(32), os.urandom(10), os.urandom(64).hex().encode()],
                         ids=["zeros", "10-bytes", "64-bytes-hex"])
def test_node_secret_import_of_wrong_key_material_refused(
        node_dir: Path, tmp_path: Path, content: bytes,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.secret").write_bytes(content)
    assert run("node", "secret", "import", str(tmp_path / "bad.secret"),
               "--dir", str(node_dir)) == 2
    assert "federation secret" in one_line(capsys.readouterr().err)
    assert not (node_dir / "secret.key").exists()


def test_node_serve_with_a_node_toml_syntax_error_exits_2(
        served_node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = served_node / "node.toml"
    config.write_text(config.read_text() + '\n[broken\n')
    assert run("node", "serve", "--dir", str(served_node)) == 2
    assert f"{config} is not valid TOML" in one_line(capsys.readouterr().err)
