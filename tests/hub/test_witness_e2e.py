"""Issue 13, attack 4, between real processes: ``fedlink hub serve`` pushes checkpoints to a
real ``fedlink node serve`` witness; deleting the newest hub events and resetting the head
is refused by the witness (``rollback``) and reported by ``fedlink audit verify
--ask-nodes``; a node log rewritten and re-hashed is reported against the node checkpoints
the hub holds."""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from agency_node.services.audit import event_hash as node_event_hash
from hub.domain.audit_chain import event_hash
from tests.agency_node.conftest import PEOPLE, write_csv
from tests.served import free_port

FEDLINK = Path(sys.executable).with_name("fedlink")



def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FEDLINK_HUB_", "FEDLINK_NODE_", "FEDLINK_TOKEN"))}
    env["FEDLINK_HUB_WITNESS_PUSH_SECONDS"] = "1"
    return env


def _fedlink(*args: str, env: dict[str, str] | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(FEDLINK), *args], env=env or _env(), capture_output=True,
                          text=True, timeout=120, check=False)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@contextmanager
def _serving(args: list[str], url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen([str(FEDLINK), *args], env=_env(), stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{args[:2]} did not start: {log.read_text()}")
                time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)


def _node_refusals(node_dir: Path) -> set[str]:
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        rows = db.execute("SELECT reason FROM audit_events WHERE typ = 'tlog_witness' "
                          "AND outcome = 'refused'").fetchall()
    return {r[0] for r in rows}


@pytest.mark.e2e
def test_witness_refuses_truncated_hub_log_and_audit_verify_reports_it(tmp_path: Path) -> None:
    hub_dir, node_dir = tmp_path / "hub", tmp_path / "node"
    hub_port, node_port = free_port(), free_port()
    hub_url, node_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{node_port}"
    _fedlink("hub", "init", "--dir", str(hub_dir))
    added = _fedlink("hub", "agency", "add", "K12", "--dir", str(hub_dir), "--name", "K12",
                     "--url", node_url).stdout
    enrollment = re.search(r"enrollment token[^:]*: (\S+)", added)
    assert enrollment, added
    source = write_csv(tmp_path / "k12.csv", PEOPLE)
    _fedlink("node", "init", "--agency", "K12", "--name", "K12", "--dir", str(node_dir),
             "--source", str(source))
    secret = tmp_path / "federation.secret"
    secret.write_text(secrets.token_hex(32))
    secret.chmod(0o600)
    _fedlink("node", "secret", "import", str(secret), "--dir", str(node_dir))
    hub_args = ["hub", "serve", "--dir", str(hub_dir), "--host", "127.0.0.1",
                "--port", str(hub_port)]
    node_args = ["node", "serve", "--dir", str(node_dir), "--host", "127.0.0.1",
                 "--port", str(node_port)]
    witnessed = f"{node_url}/v1/witness/checkpoints"
    with _serving(hub_args, hub_url, tmp_path / "hub.log"):
        _fedlink("node", "enroll", "--dir", str(node_dir), "--hub", hub_url,
                 env={**_env(), "FEDLINK_ENROLLMENT_TOKEN": enrollment.group(1)})
        with _serving(node_args, node_url, tmp_path / "node.log"):
            # The hub's pusher thread offers its checkpoint; the node co-signs it.
            _wait_for(lambda: bool(httpx.get(witnessed, timeout=5).json()["cosigned"]),
                      "the node to co-sign a hub checkpoint")
            verified = _fedlink("audit", "verify", "--dir", str(hub_dir), "--ask-nodes").stdout
            assert "witness K12 co-signed sizes" in verified
            assert "witness K12 asked directly" in verified
            node_ok = _fedlink("audit", "verify", "--node-dir", str(node_dir), "--dir",
                               str(hub_dir)).stdout
            assert "signed node checkpoints the hub holds" in node_ok
    co_signed = max(c["size"] for c in _cosigned_offline(node_dir))

    # The attacker with the hub's database: delete the newest events, reset the head, drop
    # every checkpoint and co-signature the hub kept.
    with sqlite3.connect(hub_dir / "hub.db") as db:
        total = db.execute("SELECT seq FROM audit_head").fetchone()[0]
        keep = co_signed - 1
        db.execute("DELETE FROM audit_events WHERE seq > ?", (keep,))
        head = db.execute("SELECT hash FROM audit_events WHERE seq = ?", (keep,)).fetchone()[0]
        db.execute("UPDATE audit_head SET seq = ?, hash = ?", (keep, head))
        for table in ("tlog_cosignatures", "tlog_checkpoints", "audit_checkpoints"):
            db.execute(f"DELETE FROM {table}")
    assert total >= co_signed
    alone = _fedlink("audit", "verify", "--dir", str(hub_dir))
    assert "hub audit chain intact" in alone.stdout  # the hub's own copy shows nothing …

    with _serving(hub_args, hub_url, tmp_path / "hub.log"), \
            _serving(node_args, node_url, tmp_path / "node.log"):
        # … the witness refuses the next checkpoint, and records that it did …
        _wait_for(lambda: "rollback" in _node_refusals(node_dir),
                  "the witness to refuse the rolled-back log")
        assert max(c["size"] for c in httpx.get(witnessed, timeout=5).json()["cosigned"]) \
            == co_signed
        # … and the auditor who asks the witness sees it.
        asked = _fedlink("audit", "verify", "--dir", str(hub_dir), "--ask-nodes", check=False)
        assert asked.returncode != 0
        # (the restarted hub has appended new events since, so the log at the size K12
        # co-signed now holds other events: reported as deleted or as rewritten)
        assert re.search(r"witness K12 co-signed at size \d+: history was rewritten|"
                         r"events were deleted \(rollback\)", asked.stderr), asked.stderr
        assert "Traceback" not in asked.stderr


def _cosigned_offline(node_dir: Path) -> list[dict[str, int]]:
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        return [{"size": r[0]} for r in db.execute("SELECT size FROM witnessed_checkpoints")]


@pytest.mark.e2e
def test_rewritten_node_log_reported_between_real_processes(tmp_path: Path) -> None:
    hub_dir, node_dir = tmp_path / "hub", tmp_path / "node"
    hub_port, node_port = free_port(), free_port()
    hub_url, node_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{node_port}"
    _fedlink("hub", "init", "--dir", str(hub_dir))
    added = _fedlink("hub", "agency", "add", "K12", "--dir", str(hub_dir), "--name", "K12",
                     "--url", node_url).stdout
    token = re.search(r"enrollment token[^:]*: (\S+)", added)
    assert token, added
    _fedlink("node", "init", "--agency", "K12", "--name", "K12", "--dir", str(node_dir),
             "--source", str(write_csv(tmp_path / "k12.csv", PEOPLE)))
    secret = tmp_path / "federation.secret"
    secret.write_text(secrets.token_hex(32))
    secret.chmod(0o600)
    _fedlink("node", "secret", "import", str(secret), "--dir", str(node_dir))
    _fedlink("node", "ingest", "--dir", str(node_dir))
    witnessed = f"{node_url}/v1/witness/checkpoints"
    with _serving(["hub", "serve", "--dir", str(hub_dir), "--host", "127.0.0.1", "--port",
                   str(hub_port)], hub_url, tmp_path / "hub.log"):
        _fedlink("node", "enroll", "--dir", str(node_dir), "--hub", hub_url,
                 env={**_env(), "FEDLINK_ENROLLMENT_TOKEN": token.group(1)})
        with _serving(["node", "serve", "--dir", str(node_dir), "--host", "127.0.0.1",
                       "--port", str(node_port)], node_url, tmp_path / "node.log"):
            _wait_for(lambda: bool(httpx.get(witnessed, timeout=5).json()["log_checkpoints"]),
                      "the node to hand the hub a signed log checkpoint")
    # The node's operator removes its first event (the ingest) and re-hashes the chain,
    # deleting its own signed checkpoints too.
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        rows = db.execute("SELECT seq, at, actor, typ, project_id, outcome, reason, details "
                          "FROM audit_events ORDER BY seq").fetchall()
        db.execute("DELETE FROM audit_events")
        db.execute("DELETE FROM log_checkpoints")
        prev = "0" * 64
        for seq, row in enumerate(rows[1:], start=1):
            content = {"seq": seq, "at": row[1], "actor": row[2], "typ": row[3],
                       "project_id": row[4], "outcome": row[5], "reason": row[6],
                       "details": json.loads(row[7])}
            digest = node_event_hash(content, prev)
            db.execute("INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (seq, row[1], row[2], row[3], row[4], row[5], row[6], row[7], prev,
                        digest))
            prev = digest
    alone = _fedlink("audit", "verify", "--node-dir", str(node_dir))
    assert "audit chain intact" in alone.stdout  # the rewritten chain verifies on its own
    held = _fedlink("audit", "verify", "--node-dir", str(node_dir), "--dir", str(hub_dir),
                    check=False)
    assert held.returncode != 0
    assert re.search(r"events were deleted|log was rewritten", held.stderr), held.stderr


@pytest.mark.e2e
def test_witness_refuses_rewritten_resigned_hub_log_and_audit_verify_reports_it(
        tmp_path: Path) -> None:
    """Remove two events from the middle, re-hash the chain, reset the head and drop the
    hub's checkpoints and co-signatures; the hub (holding its key) re-signs its log."""
    hub_dir, node_dir = tmp_path / "hub", tmp_path / "node"
    hub_port, node_port = free_port(), free_port()
    hub_url, node_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{node_port}"
    _fedlink("hub", "init", "--dir", str(hub_dir))
    added = _fedlink("hub", "agency", "add", "K12", "--dir", str(hub_dir), "--name", "K12",
                     "--url", node_url).stdout
    token = re.search(r"enrollment token[^:]*: (\S+)", added)
    assert token, added
    _fedlink("node", "init", "--agency", "K12", "--name", "K12", "--dir", str(node_dir),
             "--source", str(write_csv(tmp_path / "k12.csv", PEOPLE)))
    secret = tmp_path / "federation.secret"
    secret.write_text(secrets.token_hex(32))
    secret.chmod(0o600)
    _fedlink("node", "secret", "import", str(secret), "--dir", str(node_dir))
    hub_args = ["hub", "serve", "--dir", str(hub_dir), "--host", "127.0.0.1",
                "--port", str(hub_port)]
    node_args = ["node", "serve", "--dir", str(node_dir), "--host", "127.0.0.1",
                 "--port", str(node_port)]
    witnessed = f"{node_url}/v1/witness/checkpoints"
    with _serving(hub_args, hub_url, tmp_path / "hub.log"):
        _fedlink("node", "enroll", "--dir", str(node_dir), "--hub", hub_url,
                 env={**_env(), "FEDLINK_ENROLLMENT_TOKEN": token.group(1)})
        with _serving(node_args, node_url, tmp_path / "node.log"):
            _wait_for(lambda: bool(httpx.get(witnessed, timeout=5).json()["cosigned"]),
                      "the node to co-sign a hub checkpoint")
    with sqlite3.connect(hub_dir / "hub.db") as db:
        columns = ("ts", "actor", "role", "action", "object_type", "object_id", "project",
                   "agency", "outcome", "source", "detail")
        rows = db.execute(f"SELECT {', '.join(columns)} FROM audit_events "
                          "WHERE seq NOT IN (2, 3) ORDER BY seq").fetchall()
        db.execute("DELETE FROM audit_events")
        prev = "0" * 64
        for seq, row in enumerate(rows, start=1):
            content = dict(zip(columns, row, strict=True))
            content["detail"] = json.loads(content["detail"])
            digest = event_hash(content, seq=seq, prev_hash=prev)
            db.execute(f"INSERT INTO audit_events ({', '.join(columns)}, seq, prev_hash, hash) "
                       f"VALUES ({', '.join('?' * (len(columns) + 3))})",
                       (*row, seq, prev, digest))
            prev = digest
        db.execute("UPDATE audit_head SET seq = ?, hash = ?", (len(rows), prev))
        for table in ("tlog_cosignatures", "tlog_checkpoints", "audit_checkpoints"):
            db.execute(f"DELETE FROM {table}")
    assert "hub audit chain intact" in _fedlink("audit", "verify", "--dir", str(hub_dir)).stdout
    with _serving(hub_args, hub_url, tmp_path / "hub.log"), \
            _serving(node_args, node_url, tmp_path / "node.log"):
        # Refused as a rollback while shorter, then as inconsistent once it grew past.
        _wait_for(lambda: "inconsistent" in _node_refusals(node_dir),
                  "the witness to refuse the rewritten log as inconsistent")
        asked = _fedlink("audit", "verify", "--dir", str(hub_dir), "--ask-nodes", check=False)
        assert asked.returncode != 0 and "history was rewritten" in asked.stderr, asked.stderr
