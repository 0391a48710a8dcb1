"""A real `fedlink node serve` on a genuinely full file system (a small tmpfs filled to the
last byte): a match request, which must write its nonce and audit event before it answers,
is refused 503 ``store_unavailable`` with ``Retry-After`` — never a 500 — ``/ready`` says
the disk is full and the process stays up; once space is freed the node answers again
without a restart and its audit chain verifies. The same on a read-only file system
(a read-only bind mount), recovering without a restart once it is writable again."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.served import free_port, wait_until_serving
from tests.small_disk import read_only_view, small_disk

#: The node wants 16 MB free to be ready (agency_node/store/probe.py).
DISK_MB = 24


@contextlib.contextmanager
def _serving(node_dir: Path, env: dict[str, str], log: Path
             ) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """`fedlink node serve` on a free port and a client for it; stopped at the end."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "fedlink.cli", "node", "serve", "--dir", str(node_dir),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, log, what="node")
        with httpx.Client(base_url=base, timeout=60) as api:
            yield api, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _verify(node_dir: Path, env: dict[str, str]) -> None:
    verified = subprocess.run(
        [sys.executable, "-m", "fedlink.cli", "audit", "verify", "--node-dir", str(node_dir)],
        capture_output=True, text=True, timeout=60, check=False, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.e2e
def test_node_process_on_a_full_disk_answers_503_and_recovers_when_freed(
        served_node: Path, hub: object, wire: SimpleNamespace, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_NODE_DATABASE")}
    with small_disk(tmp_path / "disk", DISK_MB) as disk:
        node_dir = Path(shutil.copytree(served_node, disk.path / "node"))
        log = tmp_path / "serve.log"  # off the small disk
        with _serving(node_dir, env, log) as (api, process):

            def match() -> httpx.Response:
                envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
                return api.post("/v1/match-requests", content=envelope)

            assert api.get("/ready").status_code == 200, api.get("/ready").text
            assert match().status_code == 200

            disk.fill()
            statuses = []
            for _ in range(10):
                response = match()
                statuses.append(response.status_code)
                assert response.status_code in (200, 503), response.text
                if response.status_code == 503:
                    assert response.json()["error"] == "store_unavailable"
                    assert int(response.headers["Retry-After"]) > 0
                    if statuses.count(503) == 3:
                        break
            # The first may still fit in space SQLite already holds; then none does.
            assert statuses.count(503) == 3 and statuses[-3:] == [503] * 3, statuses
            ready = api.get("/ready")
            assert ready.status_code == 503
            assert "bytes free" in ready.json()["checks"]["database"]
            assert process.poll() is None

            disk.free()
            assert api.get("/ready").status_code == 200
            assert match().status_code == 200
        _verify(node_dir, env)
    text = log.read_text()
    assert "Traceback" not in text and "SQLITE_FULL" in text, text


@pytest.mark.e2e
def test_node_process_on_a_read_only_file_system_answers_503_and_recovers(
        served_node: Path, hub: object, wire: SimpleNamespace, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_NODE_DATABASE")}
    rw = Path(shutil.copytree(served_node, tmp_path / "rw" / "node"))
    # SQLite opens a WAL database on a read-only file system only while its -wal and -shm
    # files exist, as under a node whose file system turned read-only as it ran; this
    # connection on the writable side keeps them (a file system with files open for
    # writing cannot be remounted read-only, so it cannot happen live here).
    holder = sqlite3.connect(rw / "node.sqlite3")
    holder.execute("SELECT count(*) FROM alembic_version").fetchall()
    log = tmp_path / "serve.log"
    try:
        with read_only_view(tmp_path / "rw", tmp_path / "ro") as view, \
                _serving(view.view / "node", env, log) as (api, process):

            def match() -> httpx.Response:
                envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
                return api.post("/v1/match-requests", content=envelope)

            ready = api.get("/ready")
            assert ready.status_code == 503 and "readonly" in ready.json()["checks"]["database"]
            for _ in range(2):
                refused = match()
                assert refused.status_code == 503, refused.text
                assert refused.json()["error"] == "store_unavailable"
                assert int(refused.headers["Retry-After"]) > 0
            assert process.poll() is None

            view.make_writable()  # the operator fixed the file system; no restart
            statuses = [match().status_code for _ in range(3)]
            assert statuses[-1] == 200 and statuses.count(503) <= 1, statuses
            assert api.get("/ready").status_code == 200
    finally:
        holder.close()
    _verify(rw, env)
    text = log.read_text()
    assert "Traceback" not in text and "SQLITE_READONLY" in text, text
