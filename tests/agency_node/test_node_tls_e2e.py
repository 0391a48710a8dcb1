"""`fedlink node serve` over TLS as a real process: a client that trusts the federation CA
gets /health and /ready over https; one that does not is refused by certificate
verification; stderr is JSON lines."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fedlink.pki import init_ca, issue
from tests.served import free_port


@pytest.mark.e2e
def test_node_serves_https_only_to_clients_trusting_the_ca(served_node: Path,
                                                           tmp_path: Path) -> None:
    init_ca(tmp_path / "ca")
    cert = issue(tmp_path / "ca", name="node-k12", out_dir=tmp_path / "tls",
                 dns=["localhost"], ips=["127.0.0.1"])
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fedlink.cli", "node", "serve", "--dir", str(served_node),
         "--host", "127.0.0.1", "--port", str(port), "--ssl-certfile", str(cert.certificate),
         "--ssl-keyfile", str(cert.key)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ),
    )
    base = f"https://127.0.0.1:{port}"
    trusted = httpx.Client(verify=ssl.create_default_context(cafile=str(cert.ca)), timeout=5)
    try:
        deadline = time.monotonic() + 45
        while True:
            try:
                health = trusted.get(f"{base}/health")
                break
            except httpx.ConnectError as exc:
                assert "CERTIFICATE_VERIFY_FAILED" not in str(exc)
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "node did not start"
            time.sleep(0.2)
        assert (health.status_code, health.json()["agency"]) == (200, "K12")
        assert trusted.get(f"{base}/ready").json()["status"] == "ready"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{base}/health", timeout=5)  # the system trust store only
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)  # no plain http
    finally:
        trusted.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stderr = process.stderr.read().decode()
        process.stderr.close()
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert any(line["msg"].startswith("agency node K12 listening on https://") for line in lines)
    access = [line for line in lines if line["logger"] == "agency_node.access"]
    assert [(a["route"], a["status"]) for a in access][:2] == [("/health", 200), ("/ready", 200)]
