"""Real serving processes in end-to-end tests: a free loopback port, and waiting until a
started ``fedlink … serve`` answers (or failing the test with its log when it exits or
never answers)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(base: str, process: subprocess.Popen[bytes], log: Path, *,
                       what: str, timeout: float = 60, path: str = "/health") -> httpx.Response:
    """Poll ``base + path`` until it answers; returns that first answer. Fails the test
    with ``log`` when ``process`` exits first or nothing answers within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(f"{base}{path}", timeout=2)
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start: {log.read_text()}")
            time.sleep(0.2)
