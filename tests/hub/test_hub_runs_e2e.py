"""A linkage run end to end over real sockets: ``fedlink hub serve`` (its worker thread) and
two ``fedlink node serve`` processes on loopback, set up from ``fedlink synth`` files with
the real commands (init, secret import, ingest, enroll, steward approval), the governance
members' own keys and roster, pinned by every node (``fedlink node roster-sync``: nodes are
fail-closed on governance), a quorum of signed approvals, ``fedlink run start`` and
``fedlink run status --wait``. The servers are separate
processes; the one-shot commands run in this process (``fedlink.cli.main``, the same code
as the console script, talking to the servers over their sockets) because starting the
interpreter for each of twenty commands would cost minutes on a loaded machine.

The links the hub stored are scored against the synthetic truth: each node's store maps the
pids it issued to its records, and the source files hold each record's ``truth_id``."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedlink.cli import main
from hub.settings import DEFAULT_CRITERIA
from tests.served import free_port

#: Every criterion of the default review checklist, met (an approval answers them all).
CRITERIA = [arg for cid, _ in DEFAULT_CRITERIA for arg in ("--criterion", cid)]

FEDLINK = Path(sys.executable).with_name("fedlink")
AGENCIES = {"K12": ("k12", ["grade", "test_score"]), "HE": ("highered", ["degree", "gpa"])}



def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_")}
    return {**env, "FEDLINK_HUB_LOG_LEVEL": "warning", "FEDLINK_NODE_LOG_LEVEL": "warning"}


def fedlink(*args: str, **env: str) -> str:
    """Run one ``fedlink`` command in this process; its standard output."""
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert code == 0, f"fedlink {' '.join(args[:3])}: {err.getvalue()}{out.getvalue()}"
    return out.getvalue()


def token_in(output: str) -> str:
    return re.findall(r"token[^:]*: (\S+)", output)[-1]


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            # Healthy and still running: a process that could not bind its port has
            # exited, and whatever else holds the port must not pass for it.
            if httpx.get(f"{url}/health", timeout=1).status_code == 200 \
                    and process.poll() is None:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} did not start: {log.read_text()}")
        time.sleep(0.2)


def set_up_governance(root: Path, hub_url: str, members: list[str],
                      nodes: dict[str, Path]) -> list[Path]:
    """As a federation does it (fedlink/demo/governance.py): each member generates a key
    and registers it; the roster (all members, quorum all) is proposed, signed by each and
    submitted; every node pins it by the fingerprint the members hand out. The key files."""
    keys, listed = [], []
    for n, token in enumerate(members):
        key = root / f"member-{n}.pem"
        public = fedlink("review", "keygen", "--key-file", str(key)).split("public key:")[1]
        fedlink("review", "register-key", "--key-file", str(key), FEDLINK_HUB_URL=hub_url,
                FEDLINK_TOKEN=token)
        keys.append(key)
        listed += ["--member", f"member-{n}={public.split()[0]}"]
    proposal = root / "roster.json"
    out = fedlink("review", "roster", "propose", "--out", str(proposal), "--quorum",
                  str(len(members)), *listed, FEDLINK_HUB_URL=hub_url, FEDLINK_TOKEN=members[0])
    fingerprint = out.split("fingerprint ")[1].split()[0]
    for key in keys:
        fedlink("review", "roster", "sign", str(proposal), "--key-file", str(key))
    fedlink("review", "roster", "submit", str(proposal), FEDLINK_HUB_URL=hub_url,
            FEDLINK_TOKEN=members[0])
    for node in nodes.values():
        pinned = fedlink("node", "roster-sync", "--dir", str(node), "--roster-fingerprint",
                         fingerprint)
        assert "governance roster pinned" in pinned, pinned
    return keys


def year_span(catalog: list[dict[str, Any]], agency: str, names: list[str]) -> tuple[int, int]:
    """The longest run of consecutive years all ``names`` of ``agency`` cover."""
    years = set.intersection(*[set(v["years"]) for v in catalog
                               if v["agency"] == agency and v["variable"] in names])
    spans = []
    for start in sorted(y for y in years if y - 1 not in years):
        end = start
        while end + 1 in years:
            end += 1
        spans.append((end - start, start, end))
    _, first, last = max(spans)
    return first, last


def truth_of_pids(node_dir: Path, source: Path, project_id: str) -> dict[str, str]:
    with source.open(encoding="utf-8") as handle:
        truth = {row["record_id"]: row["truth_id"] for row in csv.DictReader(handle)}
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        rows = db.execute("SELECT p.pid, r.record_id FROM issued_pids p JOIN records r "
                          "ON r.id = p.record_pk WHERE p.project_id = ?", (project_id,))
        return {pid: truth[record_id] for pid, record_id in rows}


@pytest.mark.e2e
def test_hub_links_two_real_nodes_and_the_links_are_right(tmp_path: Path) -> None:
    synth, hub_dir = tmp_path / "synth", tmp_path / "hub"
    fedlink("synth", "--people", "300", "--out", str(synth))
    fedlink("hub", "init", "--dir", str(hub_dir))
    secret = tmp_path / "federation.secret"
    secret.write_text(secrets.token_hex(32))
    ports = {name: free_port() for name in ("hub", *AGENCIES)}
    hub_url = f"http://127.0.0.1:{ports['hub']}"
    nodes = {agency: tmp_path / agency for agency in AGENCIES}

    def set_up_node(agency: str) -> str:
        stem, _ = AGENCIES[agency]
        node = str(nodes[agency])
        fedlink("node", "init", "--agency", agency, "--name", f"{agency} agency", "--dir", node,
                "--source", str(synth / f"{stem}.csv"))
        fedlink("node", "secret", "import", str(secret), "--dir", node)
        fedlink("node", "ingest", "--dir", node)
        return token_in(fedlink("hub", "agency", "add", agency, "--dir", str(hub_dir),
                                "--name", f"{agency} agency",
                                "--url", f"http://127.0.0.1:{ports[agency]}"))

    enrollment = {agency: set_up_node(agency) for agency in AGENCIES}
    invitations = [re.findall(r"code[^:]*: (\S+)", fedlink(
        "hub", "user", "add", "--dir", str(hub_dir), "--role", role, "--name", role))[-1]
        for role in ("researcher", "governance", "governance")]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        log = tmp_path / "hub.log"
        with log.open("w") as out:
            processes.append(subprocess.Popen(
                [str(FEDLINK), "hub", "serve", "--dir", str(hub_dir), "--port",
                 str(ports["hub"])], env=_env(), stdout=out, stderr=subprocess.STDOUT))
        wait_healthy(hub_url, processes[-1], log)
        # Each person redeems their own invitation (the two governance members are the
        # hub's bootstrap quorum); tokens travel in the environment, never as flags.
        people = [token_in(fedlink("user", "redeem", "--hub", hub_url,
                                   FEDLINK_INVITATION=code)) for code in invitations]
        researcher, governance = people[0], people[1:]
        for agency, node in nodes.items():
            fedlink("node", "enroll", "--dir", str(node), "--hub", hub_url,
                    FEDLINK_ENROLLMENT_TOKEN=enrollment[agency])
            node_log = tmp_path / f"{agency}.log"
            with node_log.open("w") as out:
                processes.append(subprocess.Popen(
                    [str(FEDLINK), "node", "serve", "--dir", str(node), "--host", "127.0.0.1",
                     "--port", str(ports[agency])], env=_env(), stdout=out,
                    stderr=subprocess.STDOUT))
            wait_healthy(f"http://127.0.0.1:{ports[agency]}", processes[-1], node_log)
        member_keys = set_up_governance(tmp_path, hub_url, governance, nodes)

        auth = {"Authorization": f"Bearer {researcher}"}
        catalog = httpx.get(f"{hub_url}/v1/catalog", headers=auth, timeout=10).json()
        today = dt.date.today()
        agreement = {
            "title": "Pathways from school to college", "institution": "State University",
            "research_questions": ["Who enrols?"], "public_summary": "Enrolment pathways.",
            "scope_and_deliverables": "A report.", "allowable_uses": ["statistics"],
            "variables": [{"agency": agency, "variables": names,
                           "first_year": year_span(catalog, agency, names)[0],
                           "last_year": year_span(catalog, agency, names)[1]}
                          for agency, (_stem, names) in AGENCIES.items()],
            "cohort_description": "Everyone.", "security_plan": "Encrypted workstation.",
            "personnel": [{"name": "PI", "role": "PI", "institution": "State University"}],
            "agency_contacts": [{"agency": "K12", "name": "K", "email": "k@k12.example"}],
            "term_start": (today - dt.timedelta(days=1)).isoformat(),
            "term_end": (today + dt.timedelta(days=365)).isoformat(),
            "refresh_frequency": "once", "matching_authorised": True,
            "disposition": "destroy", "interim_findings_plan": "None.",
            # Approved only with the IRB's approval or exemption (require_irb_approval).
            "irb": {"status": "exempt", "board": "U IRB", "protocol_number": "X-1",
                    "approval_date": "2025-01-02"},
        }
        created = httpx.post(f"{hub_url}/v1/requests", json=agreement, headers=auth, timeout=10)
        assert created.status_code == 201, created.text
        project = created.json()["id"]
        httpx.post(f"{hub_url}/v1/requests/{project}/submit", headers=auth, timeout=10)
        for agency, node in nodes.items():
            # each steward's own key, registered on the node by agency IT
            steward = tmp_path / f"steward-{agency}.pem"
            created = fedlink("node", "steward", "keygen", "--key-file", str(steward))
            public = re.findall(r"public key:\s*(\S+)", created)[0]
            fedlink("node", "steward", "add", "--dir", str(node), "--public-key", public,
                    "--label", f"{agency} steward")
            fedlink("node", "approve", project, "--dir", str(node), "--yes",
                    "--steward-key", str(steward))
        for token, key in zip(governance, member_keys, strict=True):
            fedlink("review", "approve", project, "--hub", hub_url, "--key-file", str(key),
                    *CRITERIA, FEDLINK_TOKEN=token)

        as_governance = {"FEDLINK_HUB_URL": hub_url, "FEDLINK_TOKEN": governance[0]}
        run_id = fedlink("run", "start", project, **as_governance).split()[1]
        report = tmp_path / "report.html"
        shown = fedlink("run", "status", project, "--run", run_id, "--wait", "--timeout", "60",
                        "--report", str(report), **as_governance)
        assert f"run {run_id} of {project}: succeeded" in shown
        assert report.read_text().lower().lstrip().startswith("<!doctype html")
        detail = httpx.get(f"{hub_url}/v1/requests/{project}", headers=auth, timeout=10).json()
        assert detail["status"] == "ready"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)

    truth = {agency: truth_of_pids(node, synth / f"{AGENCIES[agency][0]}.csv", project)
             for agency, node in nodes.items()}
    with sqlite3.connect(hub_dir / "hub.db") as db:
        clustered = db.execute("SELECT agency, pid FROM linkage_clusters WHERE run_id = ?",
                               (run_id,)).fetchall()
        links = db.execute("SELECT agency_a, pid_a, agency_b, pid_b FROM linkage_links "
                           "WHERE run_id = ?", (run_id,)).fetchall()
    assert sorted(clustered) == sorted((a, pid) for a in truth for pid in truth[a])
    predicted = {frozenset({(a, pa), (b, pb)}) for a, pa, b, pb in links}
    by_person: dict[str, list[tuple[str, str]]] = {}
    for agency, pids in truth.items():
        for pid, person in pids.items():
            by_person.setdefault(person, []).append((agency, pid))
    true_pairs = {frozenset(members) for members in by_person.values() if len(members) == 2}
    assert len(true_pairs) >= 10
    correct = len(predicted & true_pairs)
    precision, recall = correct / len(predicted), correct / len(true_pairs)
    assert precision >= 0.95 and recall >= 0.85, (precision, recall)
