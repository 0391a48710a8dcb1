"""`kill -9` of a real `fedlink node serve` that has encoded with its worker pool leaves no
process behind (workers, forkserver, resource tracker), and its audit chain verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.served import free_port


def _living() -> dict[int, int]:
    """pid → parent pid of every process that has not ended (zombies count as ended)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if state not in ("Z", "X"):
                parents[int(entry.name)] = int(ppid)
    return parents


def _descendants(root: int) -> set[int]:
    parents = _living()
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/stat").exists() or (os.cpu_count() or 1) < 2,
                    reason="needs Linux /proc and at least 2 CPUs (the worker pool)")
def test_node_kill_9_leaves_no_encoding_process_behind(
        served_node: Path, hub: object, wire: SimpleNamespace) -> None:
    port = free_port()
    # Threshold 1: the pool encodes even this node's 4 records, as it would 20,000.
    env = {**os.environ, "FEDLINK_NODE_LOG_LEVEL": "warning",
           "FEDLINK_ENCODING_PARALLEL_THRESHOLD": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fedlink.cli", "node", "serve", "--dir", str(served_node),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "node did not start"
            time.sleep(0.1)
        envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
        response = httpx.post(f"{base}/v1/match-requests", content=envelope, timeout=60)
        assert response.status_code == 200
        children = _descendants(process.pid)
        assert len(children) >= 3, "the encoding pool did not start"  # tracker, server, worker
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (left := children & set(_living())) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"processes left after kill -9: {sorted(left)}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in children & set(_living()):  # only what this test's node started
            os.kill(pid, signal.SIGKILL)
    verified = subprocess.run(
        [sys.executable, "-m", "fedlink.cli", "audit", "verify", "--node-dir", str(served_node)],
        capture_output=True, text=True, timeout=60, check=False)
    assert verified.returncode == 0, verified.stderr
