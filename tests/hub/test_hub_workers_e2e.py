"""`fedlink hub serve` with ``workers`` > 1 (issue 20): several processes on one socket,
all stopped by one SIGTERM, and refused on SQLite before anything listens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hub.db.engine import make_engine
from tests.served import free_port

FEDLINK = Path(sys.executable).with_name("fedlink")
PG_URL = os.environ.get("FEDLINK_TEST_DATABASE_URL")


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _workers(pid: int) -> set[int]:
    """The spawned worker processes among ``pid``'s children (not multiprocessing's
    resource tracker)."""
    found = set()
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            found.add(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("needs the local PostgreSQL (FEDLINK_TEST_DATABASE_URL)")
    schema = f"hub_workers_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_HUB_")}
    env.update({f"FEDLINK_HUB_{k.upper()}": v for k, v in settings.items()})
    return env


@pytest.mark.e2e
def test_hub_serve_two_workers_share_the_socket_and_stop_together(
        tmp_path: Path, pg_schema_url: str) -> None:
    env = _env(database_url=pg_schema_url, workers="2")
    hub_dir = tmp_path / "hub"
    init = subprocess.run([str(FEDLINK), "hub", "init", "--dir", str(hub_dir)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert init.returncode == 0, init.stderr
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(FEDLINK), "hub", "serve", "--dir", str(hub_dir), "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while len(_workers(server.pid)) < 2 or not _ready(base):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"workers did not start: {log.read_text()}"
            time.sleep(0.3)
        workers = _workers(server.pid)
        assert len(workers) == 2
        helpers = _children(server.pid)  # the workers and multiprocessing's tracker
        # Every worker answers: many fresh connections reach both processes' pools and
        # all succeed.
        for _ in range(40):
            with httpx.Client(base_url=base, timeout=10) as client:
                assert client.get("/v1/public/projects").status_code == 200
        assert "2 worker processes" in log.read_text()
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    assert code == 0, log.read_text()
    # multiprocessing's resource tracker ends when it sees the supervisor's pipe close,
    # a moment after the supervisor itself: give the children 5 s, then none may remain.
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in helpers if _alive(pid)]
    assert not left, f"processes outlived the supervisor: {left}"


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_hub_serve_workers_on_sqlite_is_refused_before_listening(tmp_path: Path) -> None:
    env = _env(workers="2")
    hub_dir = tmp_path / "hub"
    init = subprocess.run([str(FEDLINK), "hub", "init", "--dir", str(hub_dir)],
                          env=_env(), capture_output=True, text=True, timeout=120, check=False)
    assert init.returncode == 0, init.stderr
    served = subprocess.run(
        [str(FEDLINK), "hub", "serve", "--dir", str(hub_dir), "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=60, check=False)
    assert served.returncode == 2
    assert "workers = 2 needs PostgreSQL" in served.stderr
    assert "Traceback" not in served.stderr
