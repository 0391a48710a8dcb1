"""Abuse limits against a real `fedlink hub serve` process: a 60 MB anonymous body is
refused with 413 before it is read whole (declared or streamed without a length), and 200
bad-token requests add a bounded number of events to the permanent audit log."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hub.test_hub_e2e import FEDLINK
from tests.served import free_port, wait_until_serving

SIXTY_MB = 60 * 1024 * 1024


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


@pytest.fixture
def served_hub(tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_HUB_")}
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
        wait_until_serving(base, server, log, what="hub")
        yield base, hub_dir, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


def _stream(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    block = b"x" * chunk
    for _ in range(total // chunk):
        yield block


@pytest.mark.e2e
def test_hub_process_refuses_sixty_megabyte_anonymous_bodies(
        served_hub: tuple[str, Path, int]) -> None:
    base, _, pid = served_hub
    before = _rss_kib(pid)
    declared = httpx.post(f"{base}/v1/enrollment", content=b"x" * SIXTY_MB, timeout=60,
                          headers={"Content-Type": "application/json"})
    assert declared.status_code == 413
    assert declared.json()["error"] == "payload_too_large"
    # No Content-Length at all (chunked): counted as it streams, refused at the limit.
    with httpx.Client(timeout=60) as client:
        streamed = client.post(f"{base}/v1/enrollment", content=_stream(SIXTY_MB),
                               headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "payload_too_large"
    # The process never held the body: its memory grew far less than 60 MB.
    assert _rss_kib(pid) - before < 30 * 1024
    assert httpx.get(f"{base}/health", timeout=5).json() == {"status": "ok"}


@pytest.mark.e2e
def test_hub_process_bad_tokens_grow_the_audit_log_boundedly(
        served_hub: tuple[str, Path, int]) -> None:
    base, hub_dir, _ = served_hub
    database = hub_dir / "hub.db"

    def count() -> int:
        with sqlite3.connect(database) as connection:
            return int(connection.execute("SELECT count(*) FROM audit_events").fetchone()[0])

    before = count()
    with httpx.Client(timeout=10) as client:
        codes = [client.get(f"{base}/v1/me", headers={"Authorization": f"Bearer bad-{i}"})
                 .status_code for i in range(200)]
    assert codes.count(401) == 50 and codes.count(429) == 150
    assert count() - before == 5  # the rest is one summary event when the window ends
