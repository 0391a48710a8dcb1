"""`fedlink hub serve` / `hub migrate` faults: one line saying what to do, a non-zero exit,
no traceback — as a real process for a port in use and an unreachable database."""

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


@pytest.fixture(scope="module")
def hub_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("faults") / "hub"
    assert run("hub", "init", "--dir", str(directory)) == 0
    return directory


@pytest.fixture
def hub_dir(hub_template: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(hub_template, tmp_path / "hub"))


@pytest.mark.e2e
def test_hub_serve_on_a_port_in_use_says_so(hub_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, stderr = fedlink_process("hub", "serve", "--dir", str(hub_dir), "--port", str(port))
    assert code != 0
    assert f"port {port} on 127.0.0.1 is already in use (is another hub running?)" in (
        one_line(stderr))


@pytest.mark.e2e
def test_hub_serve_with_unreachable_database_names_it_without_password(hub_dir: Path) -> None:
    url = "postgresql://hub:s3cret-pw@127.0.0.1:1/hub"
    code, stderr = fedlink_process("hub", "serve", "--dir", str(hub_dir),
                                   env={"FEDLINK_HUB_DATABASE_URL": url})
    assert code != 0
    line = one_line(stderr)
    assert "the hub database at postgresql+psycopg://hub:***@127.0.0.1:1/hub cannot be " \
           "reached" in line
    assert "FEDLINK_HUB_DATABASE_URL" in line and "s3cret-pw" not in stderr


def test_hub_serve_with_missing_database_or_key_says_what_to_run(
        hub_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (hub_dir / "hpke.key").unlink()
    assert run("hub", "serve", "--dir", str(hub_dir)) != 0
    assert "hpke.key is missing; run `fedlink hub init`" in one_line(capsys.readouterr().err)
    (hub_dir / "hub.db").unlink()
    assert run("hub", "serve", "--dir", str(hub_dir)) != 0
    assert "hub.db does not exist; run `fedlink hub init`" in one_line(capsys.readouterr().err)
    assert not (hub_dir / "hub.db").exists()


def test_hub_serve_refuses_plain_http_off_loopback_and_half_a_tls_pair(
        hub_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("hub", "serve", "--dir", str(hub_dir), "--host", "0.0.0.0") != 0
    assert "plain http on 0.0.0.0" in one_line(capsys.readouterr().err)
    assert run("hub", "serve", "--dir", str(hub_dir), "--ssl-certfile", "/x.crt") != 0
    assert "ssl_certfile and ssl_keyfile go together" in one_line(capsys.readouterr().err)
    assert run("hub", "serve", "--dir", str(hub_dir), "--ssl-certfile", "/x.crt",
               "--ssl-keyfile", "/x.key") != 0
    assert "ssl_certfile: /x.crt does not exist" in one_line(capsys.readouterr().err)


def test_hub_migrate_reports_the_revision(hub_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from hub.db.migrate import head_revision

    assert run("hub", "migrate", "--dir", str(hub_dir)) == 0
    assert capsys.readouterr().out.strip() == f"hub database at revision {head_revision()} " \
                                              "(unchanged)"


def test_hub_serve_with_a_hub_toml_syntax_error_exits_2_naming_file_and_line(
        hub_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Exit 2 is the configuration status systemd's RestartPreventExitStatus=2 does not retry.
    (hub_dir / "hub.toml").write_text('governance_quorum = 2\nhost = "127.0.0.1\n')
    assert run("hub", "serve", "--dir", str(hub_dir)) == 2
    line = one_line(capsys.readouterr().err)
    assert f"{hub_dir / 'hub.toml'} is not valid TOML" in line and "line 2" in line
