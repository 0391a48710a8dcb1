"""Real serving processes in end-to-end tests: a free loopback port, and waiting until a
started ``fedlink … serve`` answers (or failing the test with its log when it exits or
never answers)."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

#: Ports tests pick from: below Linux's ephemeral range (32768–60999), which the kernel
#: hands out to every outgoing connection and every ``bind(0)``. A port picked from that
#: range (as ``bind(0)`` would) can be taken by some other test's connection between the
#: pick and the server's own bind — a Dask cluster's dozens of connections made it
#: happen: the server then failed to start while the other socket answered its health
#: check.
PICK_RANGE = (20_000, 32_000)


def free_port() -> int:
    """A loopback port nothing listens on right now, outside the ephemeral range."""
    while True:
        port = random.randrange(*PICK_RANGE)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_until_serving(base: str, process: subprocess.Popen[bytes], log: Path, *,
                       what: str, timeout: float = 60, path: str = "/health") -> httpx.Response:
    """Poll ``base + path`` until it answers; returns that first answer. Fails the test
    with ``log`` when ``process`` exits first or nothing answers within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = httpx.get(f"{base}{path}", timeout=2)
        except httpx.TransportError:
            answer = None
        if answer is not None:
            if process.poll() is not None:  # something else answered on its port
                pytest.fail(f"{what} exited, yet {base} answers: {log.read_text()}")
            return answer
        else:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start: {log.read_text()}")
            time.sleep(0.2)
