"""`fedlink hub serve` with ``workers`` > 1 (issue 20): several processes on one address,
each accepting on a socket of its own (fedlink/balanced.py) so connections spread over
them, a killed worker replaced on its slot, all stopped by one SIGTERM, a port already
served refused, and refused on SQLite before anything listens."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
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


def _connections(port: int) -> dict[int, int]:
    """Established connections on ``port``, counted by the process holding them."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    counts: dict[int, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[int(pid)] = counts.get(int(pid), 0) + 1
    return counts


@contextlib.contextmanager
def _served(tmp_path: Path, pg_schema_url: str) -> Iterator[tuple[subprocess.Popen[bytes], int,
                                                                  Path]]:
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
    try:
        _until_two_workers_ready(server, port, log)
        yield server, port, log
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def _until_two_workers_ready(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while len(_workers(server.pid)) < 2 or not _ready(f"http://127.0.0.1:{port}"):
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"workers did not start: {log.read_text()}"
        time.sleep(0.3)


@pytest.mark.e2e
def test_hub_serve_two_workers_share_the_address_and_stop_together(
        tmp_path: Path, pg_schema_url: str) -> None:
    with _served(tmp_path, pg_schema_url) as (server, port, log):
        workers = _workers(server.pid)
        assert len(workers) == 2
        helpers = _children(server.pid)  # the workers and multiprocessing's tracker
        # Every worker answers: many fresh connections reach both processes' pools and
        # all succeed.
        for _ in range(40):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                assert client.get("/v1/public/projects").status_code == 200
        assert "2 worker processes" in log.read_text()
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


async def _hold(port: int, clients: int) -> dict[int, int]:
    """Open ``clients`` kept-alive connections at once (a burst, as 200 users starting
    together), use each, and count them per process while they are all open."""
    async def one(client: httpx.AsyncClient) -> None:
        assert (await client.get("/v1/public/projects")).status_code == 200

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30)
            for _ in range(clients)]
    try:
        await asyncio.gather(*(one(client) for client in pool))
        return _connections(port)
    finally:
        await asyncio.gather(*(client.aclose() for client in pool))


@pytest.mark.e2e
def test_hub_serve_workers_each_take_a_share_of_a_connection_burst(
        tmp_path: Path, pg_schema_url: str) -> None:
    with _served(tmp_path, pg_schema_url) as (server, port, _log):
        # One listening socket per worker, each held by that worker alone (uvicorn's own
        # supervisor shares one socket among all of them).
        listening = subprocess.run(["ss", "-tlnpH", f"( sport = :{port} )"],
                                   capture_output=True, text=True, check=True).stdout
        sockets = [set(map(int, re.findall(r"pid=(\d+)", line)))
                   for line in listening.splitlines()]
        workers = _workers(server.pid)
        assert len(sockets) == 2 and all(len(s & workers) == 1 for s in sockets), listening
        assert set().union(*sockets) & workers == workers
        held = asyncio.run(_hold(port, 200))
        assert set(held) == _workers(server.pid) and sum(held.values()) == 200
        # The kernel spreads by a hash of each connection: about 100 each (one shared
        # socket gave 117/83, 120/80, 112/88). 70 is > 4 standard deviations below 100.
        assert min(held.values()) >= 70, held


@pytest.mark.e2e
def test_hub_serve_killed_worker_replaced_on_its_socket(
        tmp_path: Path, pg_schema_url: str) -> None:
    with _served(tmp_path, pg_schema_url) as (server, port, log):
        victim, survivor = sorted(_workers(server.pid))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (_workers(server.pid) - {survivor}) in (set(), {victim}):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        _until_two_workers_ready(server, port, log)
        (replacement,) = _workers(server.pid) - {survivor}
        # Both sockets are served again: a burst reaches the replacement too.
        held = asyncio.run(_hold(port, 60))
        assert set(held) == {survivor, replacement}, held


@pytest.mark.e2e
def test_hub_serve_on_a_port_two_workers_already_serve_is_refused(
        tmp_path: Path, pg_schema_url: str) -> None:
    with _served(tmp_path, pg_schema_url) as (server, port, _log):
        # A second multi-worker hub must not join the first's SO_REUSEPORT group and take
        # half its connections: it is told the port is in use.
        second = subprocess.run(
            [str(FEDLINK), "hub", "serve", "--dir", str(tmp_path / "hub"), "--port", str(port)],
            env=_env(database_url=pg_schema_url, workers="2"), capture_output=True,
            text=True, timeout=60, check=False)
        assert second.returncode != 0
        assert f"port {port} on 127.0.0.1 is already in use" in second.stderr
        assert "Traceback" not in second.stderr
        assert server.poll() is None


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
