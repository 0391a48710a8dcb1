"""A match request is audited when it is admitted, before a byte is streamed, and again
with its outcome when the stream ends: a stream that never ends (the node killed, the
client gone) still leaves the request on the node's audit chain."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from agency_node.runtime import NodeRuntime
from agency_node.services.gate import ReceivedBody
from agency_node.services.match import authorise_match, stream_tokens
from agency_node.store.models import AuditEvent

TYP = "match_request"


def _outcomes(node_dir: Path) -> list[tuple[str, str]]:
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.typ == TYP)
                                 .order_by(AuditEvent.seq)).all()
        assert runtime.audit.verify().events >= len(events)
        return [(e.outcome, e.details["run_id"]) for e in events]


def test_match_request_audited_as_accepted_before_streaming(
        api: TestClient, served_node: Path, hub: Any, wire: SimpleNamespace) -> None:
    services = api.app.state.services
    envelope = wire.signed(wire.match_body(), TYP, hub.signing)
    plan = authorise_match(services, ReceivedBody(data=envelope, too_large=False, limit=1 << 20))
    run_id = plan.admitted.request.run_id
    assert _outcomes(served_node) == [("accepted", run_id)]  # nothing streamed yet
    stream = stream_tokens(services, plan)
    next(stream)
    stream.close()  # the client went away mid-stream
    assert _outcomes(served_node) == [("accepted", run_id), ("aborted", run_id)]


def test_match_request_answered_has_accepted_then_answered(
        api: TestClient, served_node: Path, hub: Any, wire: SimpleNamespace) -> None:
    response = api.post("/v1/match-requests",
                        content=wire.signed(wire.match_body(), TYP, hub.signing))
    assert response.status_code == 200
    assert [o for o, _ in _outcomes(served_node)] == ["accepted", "answered"]
