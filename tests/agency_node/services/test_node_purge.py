"""Purge at end of life on the node: the issued pseudonym map of a project is deleted on
revocation (the function a revocation handler calls), when the term ends by the node's own
clock (the sweep, also run by `fedlink node serve` at start), audited, and idempotent."""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agency_node.api.app import create_app
from agency_node.runtime import NodeRuntime
from agency_node.services.purge import purge_project, sweep
from agency_node.settings import NodeSettings
from agency_node.store.models import AuditEvent, IssuedPid, PurgedProject


def _issue(api: TestClient, hub: Any, wire: SimpleNamespace) -> list[str]:
    envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
    response = api.post("/v1/match-requests", content=envelope)
    assert response.status_code == 200, response.text
    return list(pa.ipc.open_stream(io.BytesIO(response.content)).read_all()["pid"].to_pylist())


def _issued(node: Path, project: str) -> int:
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(IssuedPid)
                                  .where(IssuedPid.project_id == project)) or 0)


def _purge_events(node: Path) -> list[AuditEvent]:
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.typ == "pids_purged")))


def test_node_revocation_purges_issued_pids_and_audits(api: TestClient, hub: Any,
                                                       wire: SimpleNamespace,
                                                       served_node: Path) -> None:
    pids = _issue(api, hub, wire)
    assert pids and _issued(served_node, wire.PROJECT) == len(pids)
    with NodeRuntime.open(served_node) as runtime:
        assert purge_project(runtime, project_id=wire.PROJECT, reason="revoked") == len(pids)
        assert purge_project(runtime, project_id=wire.PROJECT, reason="revoked") == 0
        runtime.audit.verify()
    assert _issued(served_node, wire.PROJECT) == 0
    events = _purge_events(served_node)
    assert len(events) == 1  # the second call deleted nothing and appended nothing
    assert (events[0].project_id, events[0].reason, events[0].details) == (
        wire.PROJECT, "revoked", {"pids": len(pids)})
    assert not any(pid in str(events[0].details) for pid in pids)
    # The map is gone: an extract request naming those pids is refused.
    body = wire.extract_body([(pid, f"person-{n}") for n, pid in enumerate(pids)],
                             hub.assembly_kid)
    refused = api.post("/v1/extracts", content=wire.signed(body, "extract_request",
                                                           hub.assembly_signing))
    assert (refused.status_code, refused.json()["error"]) == (403, "unknown_pid"), refused.text


def test_node_revocation_of_a_project_without_pids_is_still_audited(runtime: NodeRuntime) -> None:
    assert purge_project(runtime, project_id="prj-never-matched", reason="revoked") == 0
    with runtime.sessions() as session:
        row = session.get(PurgedProject, "prj-never-matched")
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.typ == "pids_purged")))
    assert row is not None and row.pids == 0 and row.reason == "revoked"
    assert len(events) == 1


def test_node_sweep_purges_only_after_the_term_by_its_own_clock(api: TestClient, hub: Any,
                                                                 wire: SimpleNamespace,
                                                                 served_node: Path) -> None:
    pids = _issue(api, hub, wire)
    with NodeRuntime.open(served_node) as runtime, runtime.sessions() as session:
        from agency_node.store.models import Approval

        approval = session.get(Approval, wire.PROJECT)
        assert approval is not None
        term_end = dt.date.fromisoformat(approval.term_end)
    on_last_day = dt.datetime.combine(term_end, dt.time(23, 59), tzinfo=dt.UTC)
    with NodeRuntime.open(served_node) as runtime:
        assert sweep(runtime, now=on_last_day) == {}
        assert _issued(served_node, wire.PROJECT) == len(pids)
        day_after = on_last_day + dt.timedelta(minutes=2)
        assert sweep(runtime, now=day_after) == {wire.PROJECT: len(pids)}
        assert sweep(runtime, now=day_after) == {}  # idempotent: nothing left, no event
    assert _issued(served_node, wire.PROJECT) == 0
    events = _purge_events(served_node)
    assert [(e.reason, e.details) for e in events] == [("term_ended", {"pids": len(pids)})]


def test_node_serve_sweeps_ended_projects_at_start(api: TestClient, hub: Any,
                                                   wire: SimpleNamespace,
                                                   served_node: Path) -> None:
    pids = _issue(api, hub, wire)
    assert _issued(served_node, wire.PROJECT) == len(pids)
    later = time.time() + 400 * 86_400  # past make_terms()' term end (one year out)
    app = create_app(NodeSettings.load(served_node), clock=lambda: later)
    with TestClient(app):
        deadline = time.monotonic() + 10
        while _issued(served_node, wire.PROJECT) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _issued(served_node, wire.PROJECT) == 0
    assert [e.reason for e in _purge_events(served_node)] == ["term_ended"]
