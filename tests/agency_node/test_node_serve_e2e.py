"""`fedlink node serve` as a real process on loopback answers a signed match request."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pyarrow as pa
import pytest

from protocol.encoding import token_batch_schema
from tests.served import free_port


@pytest.mark.e2e
def test_node_serve_answers_signed_match_request_over_a_socket(
    served_node: Path, hub: object, wire: SimpleNamespace
) -> None:
    port = free_port()
    env = {**os.environ, "FEDLINK_NODE_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fedlink.cli", "node", "serve", "--dir", str(served_node),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "node did not start"
            time.sleep(0.1)
        envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
        with httpx.stream("POST", f"{base}/v1/match-requests", content=envelope,
                          timeout=30) as response:
            assert response.status_code == 200
            data = b"".join(response.iter_bytes())
        table = pa.ipc.open_stream(io.BytesIO(data)).read_all()
        assert table.schema.equals(token_batch_schema())
        assert table.num_rows == 4
        replay = httpx.post(f"{base}/v1/match-requests", content=envelope, timeout=10)
        assert (replay.status_code, replay.json()["error"]) == (409, "replayed_nonce")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.mark.e2e
def test_node_serve_without_roster_warns_at_start_and_refuses_no_roster(
    unpinned_node: Path, hub: object, wire: SimpleNamespace
) -> None:
    """Fail closed on governance: a node with no pinned roster says so in one line at start,
    naming the command to run, and refuses a match request carrying a quorum's decisions."""
    port = free_port()
    env = {**os.environ, "FEDLINK_NODE_LOG_LEVEL": "warning"}
    env.pop("FEDLINK_NODE_GOVERNANCE_REQUIRED", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "fedlink.cli", "node", "serve", "--dir", str(unpinned_node),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "node did not start"
            time.sleep(0.1)
        envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
        response = httpx.post(f"{base}/v1/match-requests", content=envelope, timeout=30)
        assert (response.status_code, response.json()["error"]) == (403, "no_roster")
        assert "fedlink node roster-sync" in response.json()["detail"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stderr = process.stderr.read().decode()
        process.stderr.close()
    warnings = [line for line in stderr.splitlines() if "no governance roster" in line]
    assert len(warnings) == 1, stderr
    assert warnings[0].startswith("warning: ")
    assert "fedlink node roster-sync --roster-fingerprint" in warnings[0]
