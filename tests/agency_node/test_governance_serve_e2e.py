"""Issue 13 attacks 1 and 2 against real `fedlink node serve` processes on loopback: the
padded salt, one salt reused for two projects at two nodes, a request before the governance
quorum, a forged member signature, a non-quorum roster takeover, a pushed revocation and a
term that ended — each refused with its named code (or, for the salt reuse, disjoint
tokens)."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agency_node.runtime import NodeRuntime
from agency_node.services.governance import pin_roster
from protocol.canonical import b64url_decode, b64url_encode
from protocol.governance import (
    GovernanceDecision,
    Revocation,
    new_roster,
    roster_digest,
    sign_statement,
)
from protocol.keyfiles import key_id
from protocol.project import ProjectTerms, project_digest
from tests.agency_node.conftest import ALICE, BOB, CAROL, GENESIS, MALLORY
from tests.served import free_port

pytestmark = pytest.mark.e2e
MATCH = "match_request"
# The roster every served node pins (tests/agency_node/conftest.py); pinning it again here
# is a no-op.
NOW = dt.datetime.now(dt.UTC)



@contextmanager
def serving(node_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "FEDLINK_NODE_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fedlink.cli", "node", "serve", "--dir", str(node_dir),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
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
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


def pinned(node_dir: Path) -> Path:
    with NodeRuntime.open(node_dir) as runtime:
        pin_roster(runtime, [sign_statement(GENESIS, k) for k in (ALICE, BOB)],
                   fingerprint=roster_digest(GENESIS), now=NOW)
    return node_dir


def decide(key: Ed25519PrivateKey, body: dict[str, Any]) -> dict[str, Any]:
    terms = ProjectTerms.model_validate(body["project_terms"])
    decision = GovernanceDecision(project_id=terms.project_id, decision="approve",
                                  project_terms=terms, project_digest=project_digest(terms),
                                  decided_at=NOW)
    return sign_statement(decision, key).model_dump(mode="json")


def match(base: str, wire: SimpleNamespace, hub: Any, *signers: Ed25519PrivateKey,
          extra: list[dict[str, Any]] | None = None, **overrides: Any) -> httpx.Response:
    body = wire.match_body(**overrides)
    body["governance"] = [decide(k, body) for k in signers] + (extra or [])
    return httpx.post(f"{base}/v1/match-requests", content=wire.signed(body, MATCH, hub.signing),
                      timeout=30)


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


def tokens(response: httpx.Response) -> set[bytes]:
    assert response.status_code == 200, response.text
    table = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()
    return {t for name in table.column_names if name.startswith(("mk_", "bk_"))
            for row in table.column(name).to_pylist() for t in row}


def test_governed_node_refuses_each_attack_over_http(
    served_node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    with serving(pinned(served_node)) as base:
        # Attack 1: the padded alias of the salt.
        padded = b64url_encode(b64url_decode(wire.SALT) + b"\x00")
        refused(match(base, wire, hub, ALICE, BOB, project_salt=padded), 422, "bad_salt")
        # Attack 2: a request before the quorum, and with a forged member signature.
        refused(match(base, wire, hub), 403, "no_governance_quorum")
        refused(match(base, wire, hub, ALICE), 403, "no_governance_quorum")
        body = wire.match_body()
        forged = {**decide(MALLORY, body), "kid": key_id(BOB.public_key())}
        refused(match(base, wire, hub, ALICE, extra=[forged]), 403, "no_governance_quorum")
        # A roster update signed by less than a quorum of the pinned roster.
        takeover = new_roster([("mallory", MALLORY.public_key())], quorum=1, previous=GENESIS)
        pushed = httpx.post(f"{base}/v1/governance/roster", timeout=10, json={"versions": [[
            sign_statement(takeover, k).model_dump(mode="json") for k in (ALICE, MALLORY)]]})
        refused(pushed, 422, "roster_not_quorum")
        refused(match(base, wire, hub, MALLORY), 403, "no_governance_quorum")
        # The quorum: answered.
        assert match(base, wire, hub, ALICE, CAROL).status_code == 200
        # A revocation signed by one member, pushed: refused from then on.
        revocation = sign_statement(Revocation(project_id=wire.PROJECT, reason="withdrawn",
                                               revoked_at=NOW), CAROL)
        pushed = httpx.post(f"{base}/v1/governance/revocations", content=revocation.to_json(),
                            timeout=10)
        assert pushed.status_code == 200 and pushed.json() == {"recorded": True}
        refused(match(base, wire, hub, ALICE, BOB), 403, "revoked")


def test_ended_term_refused_over_http(served_node: Path, hub: Any, wire: SimpleNamespace) -> None:
    with NodeRuntime.open(served_node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(term_start="2020-01-01",
                                                      term_end="2021-12-31"))
    with serving(pinned(served_node)) as base:
        response = match(base, wire, hub, ALICE, BOB,
                         scope={"term_start": "2020-01-01", "term_end": "2021-12-31"})
        refused(response, 403, "term_expired")


def test_salt_reused_for_another_project_at_another_node_gives_disjoint_tokens(
    served_template: Path, tmp_path: Path, hub: Any, wire: SimpleNamespace
) -> None:
    node_a = Path(shutil.copytree(served_template, tmp_path / "a"))
    node_b = Path(shutil.copytree(served_template, tmp_path / "b"))
    with NodeRuntime.open(node_b) as runtime:
        wire.approve_locally(runtime, wire.make_terms(project_id="P-2026-004"))
    with serving(node_a) as base_a, serving(node_b) as base_b:
        # Both nodes pinned the roster (served_template): each project has its quorum.
        p3 = tokens(match(base_a, wire, hub, ALICE, BOB))
        p4 = tokens(match(base_b, wire, hub, ALICE, BOB, project_id="P-2026-004"))  # P3's salt
    assert p3 and p4 and not p3 & p4
