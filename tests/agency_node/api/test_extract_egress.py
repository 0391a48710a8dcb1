"""The egress guard on ``POST /v1/extracts``: a variable the steward offered whose values
are the records' own identifiers is refused before anything is sealed — with the variable
and a row count, never a value — and audited; ordinary variables still go out. The last
test does it over a socket with ``fedlink node serve`` as a real process."""

from __future__ import annotations

import csv
import io
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from agency_node import keys as node_keys
from agency_node.api.app import create_app
from agency_node.config import SourceSection, update_hub_section
from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.settings import NodeSettings
from agency_node.setup import init_node
from protocol.keyfiles import key_id
from tests.served import free_port

TYP = "extract_request"
BASE = ["record_id", "first_name", "last_name", "dob", "sex", "ssn", "postal_code",
        "school_year", "grade_level", "gpa"]
PEOPLE = [
    ["K12-0001", "Valerie", "Hooper", "1973-11-24", "F", "223-45-6780", "22030", "2019",
     "9", "3.4"],
    ["K12-0002", "William", "O'Brien", "2003-11-21", "M", "078-05-1121", "22031", "2020",
     "10", "2.9"],
    ["K12-0003", "Maria", "Garcia", "2005-01-15", "F", "345-67-8902", "24060", "2020", "8",
     "3.9"],
    ["K12-0004", "DeShawn", "Washington", "2002-07-04", "M", "456-78-9012", "23455",
     "2021", "12", "3.1"],
]
#: Columns a steward offered as variables whose values identify (added after init, as a
#: hand edit of node.toml would): the guard is the line that catches them.
FORCED = {
    "ref_a": lambda p: p[2].upper(),  # the record's last name in upper case
    "ref_b": lambda p: f"{p[3][5:7]}/{p[3][8:10]}/{p[3][:4]}",  # its DOB as MM/DD/YYYY
    "ref_c": lambda p: p[5],  # its SSN with dashes
    "ref_d": lambda p: f"{p[1].lower()}@example.org",  # an e-mail address
}
VARIABLES = ["grade_level", "gpa", *FORCED]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def egress_node(tmp_path: Path, hub: Any, wire: SimpleNamespace) -> Path:
    """A loaded, enrolled node offering the FORCED variables, PROJECT approved for them;
    the governance roster pinned (nodes are fail-closed on governance)."""
    source = _write(tmp_path / "k12.csv", BASE, PEOPLE)
    node_dir = tmp_path / "node"
    init_node(node_dir, agency="K12", name="K12 agency",
              source=SourceSection(kind="csv", path=str(source)))
    _write(source, [*BASE, *FORCED], [[*p, *(f(p) for f in FORCED.values())] for p in PEOPLE])
    with (node_dir / "node.toml").open("a", encoding="utf-8") as toml:
        for name in FORCED:
            toml.write(f'\n[variables.{name}]\ncolumn = "{name}"\ntype = "string"\n'
                       "years = [2019, 2020, 2021]\n")
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
    with NodeRuntime.open(node_dir) as opened:
        run_ingest(opened.settings.node, opened.sessions, opened.audit)
        wire.approve_locally(opened, wire.make_terms(variables=VARIABLES))
        wire.pin_genesis(opened)
    return node_dir


@pytest.fixture
def egress_api(egress_node: Path, hub: Any, wire: SimpleNamespace
               ) -> Iterator[tuple[TestClient, list[str]]]:
    app = create_app(NodeSettings.load(egress_node))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/match-requests", content=wire.governed_match(hub, VARIABLES))
        assert response.status_code == 200, response.text
        table = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()
        yield client, table.column("pid").to_pylist()


def _values(name: str) -> list[str]:
    return [FORCED[name](p) for p in PEOPLE]


def _audit(node_dir: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        return db.execute("SELECT outcome, reason, details FROM audit_events WHERE typ = ? "
                          "ORDER BY seq", (TYP,)).fetchall()


def test_extract_of_ordinary_variables_is_not_refused_by_the_egress_guard(
    egress_api: tuple[TestClient, list[str]], hub: Any, wire: SimpleNamespace
) -> None:
    client, pids = egress_api
    response = client.post("/v1/extracts",
                           content=wire.assembly_extract(hub, pids, ["grade_level", "gpa"]))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("name", "kind"), [
    ("ref_a", "name"), ("ref_b", "dob"), ("ref_c", "ssn"), ("ref_d", "email_pattern")])
def test_extract_of_identifying_variable_refused_by_egress_guard(
    egress_api: tuple[TestClient, list[str]], egress_node: Path, hub: Any,
    wire: SimpleNamespace, name: str, kind: str
) -> None:
    client, pids = egress_api
    response = client.post("/v1/extracts",
                           content=wire.assembly_extract(hub, pids, ["grade_level", name]))
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"] == "egress_identifier"
    assert f"variable {name!r}" in body["detail"] and "of 4 rows" in body["detail"]
    assert "payload" not in body  # nothing sealed, nothing sent
    outcome, reason, details = _audit(egress_node)[-1]
    assert (outcome, reason) == ("refused", "egress_identifier")
    assert f'"variable": "{name}"' in details and f'"kind": "{kind}"' in details
    for value in _values(name):
        assert value not in response.text and value not in details
        assert value.split("@")[0] not in details



@pytest.mark.e2e
def test_node_serve_refuses_identifying_extract_over_a_socket(
    egress_node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    port = free_port()
    env = {**os.environ, "FEDLINK_NODE_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fedlink.cli", "node", "serve", "--dir", str(egress_node),
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
        matched = httpx.post(f"{base}/v1/match-requests", timeout=30,
                             content=wire.governed_match(hub, VARIABLES))
        assert matched.status_code == 200, matched.text
        pids = pa.ipc.open_stream(io.BytesIO(matched.content)).read_all().column(
            "pid").to_pylist()
        refused = httpx.post(f"{base}/v1/extracts", timeout=30, content=wire.assembly_extract(
            hub, pids, ["grade_level", *FORCED]))
        assert refused.status_code == 403
        assert refused.json()["error"] == "egress_identifier"
        for name in FORCED:
            assert f"variable {name!r}" in refused.json()["detail"]
            for value in _values(name):
                assert value not in refused.text
        answered = httpx.post(f"{base}/v1/extracts", timeout=30, content=wire.assembly_extract(
            hub, pids, ["grade_level", "gpa"]))
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
    for name in FORCED:
        for value in _values(name):
            assert value.encode() not in logs
    outcomes = [(outcome, reason) for outcome, reason, _ in _audit(egress_node)]
    assert outcomes[-2:] == [("refused", "egress_identifier"), ("answered", "")]
    # The steward reads what was refused: variables, kinds, row counts — no value.
    shown = subprocess.run(
        [sys.executable, "-m", "fedlink.cli", "node", "egress", "--dir", str(egress_node)],
        capture_output=True, text=True, env=env, timeout=60, check=True).stdout
    for name, kind in (("ref_a", "name"), ("ref_b", "dob"), ("ref_c", "ssn"),
                       ("ref_d", "email_pattern")):
        assert f"variable {name}: {kind} in 4 rows" in shown
        for value in _values(name):
            assert value not in shown
