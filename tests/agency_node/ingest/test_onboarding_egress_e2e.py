"""Issue 14 end to end, as a new agency would meet it: the real-looking export goes through
``fedlink node init`` (a steward forces one identifying column through with an override)
and ``fedlink node ingest`` as processes, ``fedlink node serve`` answers a governed match
request over a socket, and the forced variable is refused by the node's egress guard —
naming the variable and a row count, never a value — while the ordinary one goes out."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pyarrow as pa
import pytest

from agency_node import keys as node_keys
from agency_node.config import read_config, update_hub_section
from agency_node.runtime import NodeRuntime
from protocol.keyfiles import key_id
from tests.served import free_port

FORCED = "student_email"
OFFER = f"{FORCED}=the steward wants it; the egress guard must still stop it"
VARIABLES = ["benefit_amt", FORCED]
IDENTIFYING = {"CLIENT_ID", "FIRST_NM", "LAST_NM", "BIRTH_DT", "SSN", "GENDER_CD",
               "ADDR_LINE_1", "CITY_NM", "ZIP_CD", "alt_ssn", "guardian_name", "phone",
               "CASE_WORKER"}


def _fedlink(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fedlink.cli", *argv], capture_output=True,
                          text=True, timeout=180, check=False)



def _emails(source: Path) -> list[str]:
    with source.open(encoding="utf-8", newline="") as handle:
        return [row[FORCED] for row in csv.DictReader(handle) if row[FORCED]]


def _onboard(tmp_path: Path, source: Path, hub: Any, wire: SimpleNamespace) -> Path:
    node_dir = tmp_path / "dsx"
    done = _fedlink("node", "init", "--agency", "K12", "--name", "Social Services",
                    "--dir", str(node_dir), "--source", str(source), "--offer", OFFER)
    assert done.returncode == 0, done.stderr
    config = read_config(node_dir)
    offered = {v.column for v in config.variables.values()}
    assert not offered & IDENTIFYING  # nothing identifying is offered ...
    assert FORCED in offered and config.mapping.overrides.keys() == {FORCED}  # ... but this
    secret = tmp_path / "federation.secret"
    secret.write_text(secrets.token_hex(32))
    node_keys.import_federation_secret(node_dir, secret)
    node_keys.store_hub_material(node_dir, signing_public=hub.signing.public_key(),
                                 hpke_public=hub.hpke.public_key(), token="t" * 32,
                                 assembly_public=hub.assembly.public_key(),
                                 assembly_signing_public=hub.assembly_signing.public_key())
    update_hub_section(node_dir, url="http://hub.invalid",
                       signing_kid=key_id(hub.signing.public_key()), hpke_kid=hub.hpke_kid,
                       assembly_kid=hub.assembly_kid,
                       assembly_signing_kid=hub.assembly_signing_kid)
    loaded = _fedlink("node", "ingest", "--dir", str(node_dir))
    assert loaded.returncode == 0, loaded.stderr
    with NodeRuntime.open(node_dir) as opened:
        wire.approve_locally(opened, wire.make_terms(variables=VARIABLES))
        wire.pin_genesis(opened)
    return node_dir


@pytest.mark.e2e
def test_issue_export_onboarded_and_forced_identifier_stopped_at_the_node(
        tmp_path: Path, issue_export: Callable[..., Path], hub: Any,
        wire: SimpleNamespace) -> None:
    source = issue_export(rows=120)
    node_dir = _onboard(tmp_path, source, hub, wire)
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        events = db.execute("SELECT typ, details FROM audit_events").fetchall()
    overrides = [json.loads(d) for t, d in events if t == "column_override"]
    assert [o["column"] for o in overrides] == [FORCED]  # the override is on record

    port = free_port()
    env = {**os.environ, "FEDLINK_NODE_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fedlink.cli", "node", "serve", "--dir", str(node_dir),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "node did not start"
            time.sleep(0.1)
        matched = httpx.post(f"{base}/v1/match-requests", timeout=60,
                             content=wire.governed_match(hub, VARIABLES))
        assert matched.status_code == 200, matched.text
        pids = pa.ipc.open_stream(io.BytesIO(matched.content)).read_all().column(
            "pid").to_pylist()
        assert len(pids) > 20  # the rows of the approved years, 2019-2021
        refused = httpx.post(f"{base}/v1/extracts", timeout=60,
                             content=wire.assembly_extract(hub, pids, VARIABLES))
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "egress_identifier"
        assert f"variable {FORCED!r}" in refused.json()["detail"]
        assert not any(email in refused.text for email in _emails(source))
        answered = httpx.post(f"{base}/v1/extracts", timeout=60,
                              content=wire.assembly_extract(hub, pids, ["benefit_amt"]))
        assert answered.status_code == 200, answered.text
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stdout is not None and process.stderr is not None
        logs = process.stdout.read() + process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert not any(email.encode() in logs for email in _emails(source))
