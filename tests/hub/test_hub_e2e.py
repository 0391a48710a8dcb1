"""``fedlink hub serve`` as a real process on a free loopback port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.served import free_port, wait_until_serving

FEDLINK = Path(sys.executable).with_name("fedlink")


@pytest.mark.e2e
def test_hub_serve_health_auth_and_public_list(tmp_path: Path) -> None:
    env = {**os.environ, "FEDLINK_HUB_DATABASE_URL": ""}
    env.pop("FEDLINK_HUB_DATABASE_URL")
    hub_dir = tmp_path / "hub"
    init = subprocess.run([str(FEDLINK), "hub", "init", "--dir", str(hub_dir)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert init.returncode == 0, init.stderr
    admin = re.search(r"token \(shown once, keep it safe\): (\S+)", init.stdout).group(1)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(FEDLINK), "hub", "serve", "--dir", str(hub_dir), "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_until_serving(base, server, log, what="hub", timeout=30)
        assert health.json() == {"status": "ok"}
        unauthenticated = httpx.get(f"{base}/v1/requests", timeout=5)
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["error"] == "missing_token"
        me = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {admin}"}, timeout=5)
        assert me.json()["role"] == "admin"
        public = httpx.get(f"{base}/v1/public/projects", timeout=5).json()
        assert public["approved_projects"] == []
        assert httpx.get(f"{base}/openapi.json", timeout=5).json()["info"]["title"] == \
            "Fedlink hub"
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
