"""Resuming a match stream (agency_node/services/match.py, ``resume_from_batch``): the node
passes over the batches the hub holds — unencoded, unsent, not remembered again — and
sends exactly the rest of the same stream; a resume past the end is refused."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agency_node.api.app import create_app
from agency_node.errors import NodeError, RefusedError
from agency_node.runtime import NodeRuntime
from agency_node.services.gate import ReceivedBody
from agency_node.services.match import authorise_match, stream_tokens
from agency_node.settings import NodeSettings
from agency_node.store.models import AuditEvent, IssuedPid
from hub.services.node_fetch import ARROW_STREAM, FetchPolicy, NodeTarget, fetch_tokens
from protocol.wire import MatchRequest
from tests.agency_node.conftest import fixed_key_person_node, signed
from tests.agency_node.services.test_unit_order import HEADER, LONE_ROWS, PERSONS, _rows

MATCH = "match_request"
#: Units per batch: persons and lone records in many small batches.
BATCH = 16
COHORT = {"conditions": [{"kind": "range", "variable": "grade_level", "minimum": 11}]}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, hub: Any) -> Path:
    return fixed_key_person_node(tmp_path_factory.mktemp("match-resume"), hub, _rows(), HEADER)


@pytest.fixture
def node(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "node"))


@pytest.fixture
def api(node: Path) -> Iterator[TestClient]:
    with TestClient(create_app(NodeSettings.load(node)), raise_server_exceptions=False) as c:
        yield c


def _batches(api: TestClient, hub: Any, body: dict[str, Any]) -> list[pa.RecordBatch]:
    services = api.app.state.services
    plan = authorise_match(services, ReceivedBody(data=signed(body, MATCH, hub.signing),
                                                  too_large=False, limit=1 << 20))
    data = b"".join(stream_tokens(services, plan, batch_size=BATCH))
    return list(pa.ipc.open_stream(io.BytesIO(data)))


def _events(node: Path) -> list[AuditEvent]:
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.typ == MATCH)
                                    .order_by(AuditEvent.seq)).all())


def _issued(node: Path) -> set[str]:
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        return set(session.scalars(select(IssuedPid.pid)).all())


def test_match_request_resume_skips_held_batches(
        api: TestClient, node: Path, hub: Any, wire: SimpleNamespace) -> None:
    # A fresh node asked to resume: it sends the batches after the first k, identical
    # (pids, tokens, Bloom filters) to those of the whole stream, and remembers only them.
    resumed = _batches(api, hub, wire.match_body(resume_from_batch=3))
    assert _issued(node) == {pid for b in resumed for pid in b.column("pid").to_pylist()}
    whole = _batches(api, hub, wire.match_body())
    assert len(whole) == -(-(PERSONS + LONE_ROWS) // BATCH)
    assert len(resumed) == len(whole) - 3
    assert all(r.equals(w) for r, w in zip(resumed, whole[3:], strict=True))
    accepted, answered = _events(node)[:2]
    assert (accepted.outcome, answered.outcome) == ("accepted", "answered")
    assert answered.details["resumed_from"] == 3
    assert answered.details["batches"] == len(whole) - 3
    assert answered.details["records"] == sum(b.num_rows for b in whole[3:])
    assert _events(node)[-1].details["resumed_from"] == 0


def test_match_request_resume_with_a_cohort_skips_the_same_batches(
        api: TestClient, node: Path, hub: Any, wire: SimpleNamespace) -> None:
    # With a cohort, pages the cohort empties are no batch: the skip reads the rows to
    # count batches exactly as the stream does.
    with NodeRuntime.open(node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(cohort=COHORT))
    whole = _batches(api, hub, wire.match_body(scope={"cohort": COHORT}))
    assert len(whole) > 4
    resumed = _batches(api, hub, wire.match_body(scope={"cohort": COHORT},
                                                 resume_from_batch=4))
    assert pa.Table.from_batches(resumed).equals(pa.Table.from_batches(whole[4:]))


def test_match_request_resume_at_the_end_sends_an_empty_stream(
        api: TestClient, node: Path, hub: Any, wire: SimpleNamespace) -> None:
    whole = _batches(api, hub, wire.match_body())
    assert _batches(api, hub, wire.match_body(resume_from_batch=len(whole))) == []


def test_match_request_resume_past_end_refused(
        api: TestClient, node: Path, hub: Any, wire: SimpleNamespace) -> None:
    whole = _batches(api, hub, wire.match_body())
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        issued = session.scalar(select(func.count()).select_from(IssuedPid))
    response = api.post("/v1/match-requests", content=signed(
        wire.match_body(resume_from_batch=len(whole) + 1), MATCH, hub.signing))
    assert response.status_code == 409
    assert response.json()["error"] == "bad_resume"
    refused = _events(node)[-1]
    assert (refused.outcome, refused.reason) == ("refused", "bad_resume")
    assert refused.details["resumed_from"] == len(whole) + 1
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IssuedPid)) == issued
    with pytest.raises(RefusedError, match="past the end"):
        _batches(api, hub, wire.match_body(resume_from_batch=len(whole) + 5))


class _Broken(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes], cut: int | None) -> None:
        self.chunks, self.cut = chunks, cut

    def __iter__(self) -> Iterator[bytes]:
        # One chunk ahead, as a server drives the stream: the node's generator has ended
        # (and audited its outcome) when the client reads the last chunk.
        pending: bytes | None = None
        for n, chunk in enumerate(self.chunks):
            if n == self.cut:
                self.chunks.close()  # type: ignore[attr-defined]
                raise httpx.ReadError("connection reset by peer")
            if pending is not None:
                yield pending
            pending = chunk
        if pending is not None:
            yield pending


def test_hub_lands_a_broken_stream_of_the_node_resumed_after_held_batches(
        api: TestClient, node: Path, hub: Any, wire: SimpleNamespace, tmp_path: Path) -> None:
    # The hub's fetch against this node's own match services (authorise, stream, small
    # batches), the first answer cut off by a reset after 5 batches (the sixth is read
    # ahead, lost with the reset): the retry asks for
    # resume_from_batch 5, the node sends the rest, and the landed file is the whole stream.
    services = api.app.state.services
    asked: list[int] = []

    def node_app(request: httpx.Request) -> httpx.Response:
        try:
            plan = authorise_match(services, ReceivedBody(data=request.content,
                                                          too_large=False, limit=1 << 20))
            stream = stream_tokens(services, plan, batch_size=BATCH)
        except NodeError as exc:
            return httpx.Response(exc.status, json={"error": exc.code, "detail": str(exc)})
        asked.append(plan.admitted.request.resume_from_batch)
        return httpx.Response(200, headers={"content-type": ARROW_STREAM},
                              stream=_Broken(stream, 6 if len(asked) == 1 else None))

    target = NodeTarget(agency="K12", url="http://k12.node.test",
                        request=MatchRequest.model_validate(wire.match_body()))
    policy = FetchPolicy(signing_key=hub.signing, retries=2, backoff_seconds=0.0)
    with httpx.Client(transport=httpx.MockTransport(node_app)) as client:
        answer = fetch_tokens(client, target, policy, threading.Event(), tmp_path)
    assert asked == [0, 5] and answer.attempts == 2
    landed = pa.ipc.open_file(pa.memory_map(str(answer.path))).read_all()
    whole = pa.Table.from_batches(_batches(api, hub, wire.match_body()))
    assert landed.equals(whole)
    pids = landed.column("pid").to_pylist()
    assert pids == sorted(pids) and len(set(pids)) == PERSONS + LONE_ROWS
    outcomes = [(e.outcome, e.details["resumed_from"]) for e in _events(node)]
    assert outcomes[:4] == [("accepted", 0), ("aborted", 0), ("accepted", 5),
                            ("answered", 5)]


def test_match_units_encoded_are_counted_in_the_node_metrics(
        api: TestClient, node: Path, hub: Any, wire: SimpleNamespace) -> None:
    registry = api.app.state.metrics.registry
    for _ in range(2):
        response = api.post("/v1/match-requests",
                            content=signed(wire.match_body(), MATCH, hub.signing))
        assert response.status_code == 200
    # Served, the stream is one batch of every unit; a resume after it sends none.
    resumed = api.post("/v1/match-requests", content=signed(
        wire.match_body(resume_from_batch=1), MATCH, hub.signing))
    assert pa.ipc.open_stream(io.BytesIO(resumed.content)).read_all().num_rows == 0
    assert registry.get_sample_value("node_match_units_encoded_total") == 2 * (
        PERSONS + LONE_ROWS)
