"""Issue 13, attack 3 against a real ``fedlink hub serve`` process: an admin token can no
longer act as anyone — it mints no token for another user, creates no usable governance
account, and approves nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.served import free_port

FEDLINK = Path(sys.executable).with_name("fedlink")



def _fedlink(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_")}
    return subprocess.run([str(FEDLINK), *args], env={**clean, **env}, capture_output=True,
                          text=True, timeout=120, check=False)


def _code(output: str) -> str:
    return re.findall(r"code[^:]*: (\S+)", output)[-1]


@pytest.mark.e2e
def test_admin_cannot_act_as_anyone_against_a_real_hub(tmp_path: Path) -> None:
    hub_dir = tmp_path / "hub"
    init = _fedlink("hub", "init", "--dir", str(hub_dir))
    assert init.returncode == 0, init.stderr
    admin = re.search(r"token \(shown once, keep it safe\): (\S+)", init.stdout).group(1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(FEDLINK), "hub", "serve", "--dir", str(hub_dir), "--port", str(port)],
            env={k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_")},
            stdout=out, stderr=subprocess.STDOUT)
    as_admin = {"Authorization": f"Bearer {admin}"}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"hub did not start: {log.read_text()}")
                time.sleep(0.2)
        # The bootstrap: two governance members redeem their own invitations.
        members = []
        for name in ("Gail", "Gus"):
            invited = _fedlink("hub", "user", "add", "--dir", str(hub_dir), "--role",
                               "governance", "--name", name)
            token_out = tmp_path / f"{name}.token"
            redeemed = _fedlink("user", "redeem", "--hub", base, "--token-out", str(token_out),
                                FEDLINK_INVITATION=_code(invited.stdout))
            assert redeemed.returncode == 0 and "is active" in redeemed.stdout, redeemed.stderr
            assert token_out.read_text().strip() not in redeemed.stdout
            members.append(token_out)
        gail = httpx.get(f"{base}/v1/me", timeout=5, headers={
            "Authorization": f"Bearer {members[0].read_text().strip()}"}).json()

        # 1. Mint a governance member's token: refused.
        minted = httpx.post(f"{base}/v1/users/{gail['id']}/tokens", json={}, headers=as_admin,
                            timeout=5)
        assert minted.status_code == 403
        assert minted.json()["error"] == "token_for_another_user"
        # 2. Create a user with a token directly: there is no such endpoint any more.
        created = httpx.post(f"{base}/v1/users", json={"name": "X", "role": "governance"},
                             headers=as_admin, timeout=5)
        assert created.status_code == 405
        # 3. Invite "governance members" and redeem the codes itself: pending, unusable.
        fakes = []
        for name in ("Sock", "Puppet"):
            invited = httpx.post(f"{base}/v1/invitations", headers=as_admin, timeout=5,
                                 json={"name": name, "role": "governance"}).json()
            redeemed = httpx.post(f"{base}/v1/invitations/redeem", timeout=5,
                                  json={"code": invited["code"]}).json()
            assert redeemed["status"] == "pending"
            fakes.append(redeemed)
        for fake in fakes:
            used = httpx.get(f"{base}/v1/requests", timeout=5,
                             headers={"Authorization": f"Bearer {fake['token']}"})
            assert used.status_code == 401
            assert "awaits governance approval" in used.json()["detail"]
            # 4. Approve them as admin: refused.
            approved = httpx.post(f"{base}/v1/users/{fake['id']}/approve", headers=as_admin,
                                  timeout=5)
            assert approved.status_code == 403
        # The real members see the pending accounts (and can refuse to approve them).
        shown = _fedlink("user", "pending", "--hub", base, "--token-file", str(members[1]))
        assert shown.returncode == 0 and "Sock" in shown.stdout and "approvals 0/2" in shown.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
    verified = _fedlink("audit", "verify", "--dir", str(hub_dir))
    assert verified.returncode == 0, verified.stderr
