"""Landing node streams on disk and resuming a broken one (hub/services/node_fetch.py):
a retry after a broken stream asks the node to resume after the batches already landed,
and the landed file holds every row exactly once, in order."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from hub.errors import NodeRequestError
from hub.services.node_fetch import (
    ARROW_STREAM,
    FetchPolicy,
    NodeAnswer,
    NodeTarget,
    fetch_all,
    fetch_tokens,
)
from protocol.wire import MAX_RESUME_BATCHES, MatchRequest
from tests.hub.services.test_node_fetch_stream import stream_bytes
from tests.protocol.test_wire import match_request_fields

URL = "http://k12.node.test"
TARGET = NodeTarget(agency="K12", url=URL,
                    request=MatchRequest.model_validate(match_request_fields()))


def policy(retries: int = 3) -> FetchPolicy:
    return FetchPolicy(signing_key=Ed25519PrivateKey.generate(), retries=retries,
                       backoff_seconds=0.0)


def batch_chunks(table: pa.Table, batch_size: int) -> list[bytes]:
    """The stream as a node sends it: schema with the first batch, one chunk per batch,
    then the end-of-stream marker as a chunk of its own."""
    sink = io.BytesIO()
    chunks = []
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=batch_size):
            writer.write_batch(batch)
            chunks.append(sink.getvalue())
            sink.seek(0)
            sink.truncate()
    chunks.append(sink.getvalue())
    return chunks


class BreakingNode:
    """A node that sends its stream batch by batch, from ``resume_from_batch`` on, and
    breaks the connection after ``break_after`` batches on the attempts listed."""

    def __init__(self, table: pa.Table, batch_size: int, *, break_after: dict[int, int],
                 refuse_resume: bool = False) -> None:
        self.table, self.batch_size = table, batch_size
        self.break_after = break_after
        self.refuse_resume = refuse_resume
        self.asked: list[int | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)["body"]
        resume = body.get("resume_from_batch")
        self.asked.append(resume)
        if resume and self.refuse_resume:
            return httpx.Response(422, json={"error": "malformed_message", "detail": "no"})
        batches = self.table.to_batches(max_chunksize=self.batch_size)
        table = pa.Table.from_batches(batches[resume or 0:], schema=self.table.schema)
        chunks = batch_chunks(table, self.batch_size)
        cut = self.break_after.get(len(self.asked))

        def stream() -> Iterator[bytes]:
            for n, chunk in enumerate(chunks):
                if cut is not None and n == cut:
                    raise httpx.ReadError("connection reset by peer")
                yield chunk

        return httpx.Response(200, headers={"content-type": ARROW_STREAM},
                              stream=_Iter(stream()))


class _Iter(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks


def node_table(n: int, batch_size: int) -> pa.Table:
    """Token rows as a node sends them: in pid order (agency_node/services/unit_order.py)."""
    return stream_bytes(n, batch_size)[1].sort_by("pid")


def landed(path: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all()


def fetch(node: Any, spool: Path, retries: int = 3) -> NodeAnswer:
    with httpx.Client(transport=httpx.MockTransport(node)) as client:
        return fetch_tokens(client, TARGET, policy(retries), threading.Event(), spool)


def test_broken_stream_resumes_from_held_batches(tmp_path: Path) -> None:
    table = node_table(23, 5)
    node = BreakingNode(table, 5, break_after={1: 3})  # 3 batches, then the reset
    answer = fetch(node, tmp_path)
    assert node.asked == [None, 3]  # the first request had no resume field at all
    assert (answer.rows, answer.batches, answer.attempts) == (23, 5, 2)
    assert answer.path == tmp_path / "K12.arrow"
    got = landed(answer.path)
    assert got.equals(table)  # every row exactly once, in order
    assert got.column("pid").to_pylist() == table.column("pid").to_pylist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["K12.arrow"]  # no .partial left


def test_stream_broken_twice_resumes_each_time_after_what_is_held(tmp_path: Path) -> None:
    table = node_table(40, 4)  # 10 batches
    node = BreakingNode(table, 4, break_after={1: 2, 2: 5})
    answer = fetch(node, tmp_path)
    assert node.asked == [None, 2, 7]
    assert landed(answer.path).equals(table)


def test_node_that_refuses_to_resume_is_asked_for_the_whole_stream(tmp_path: Path) -> None:
    # An older node refuses the unknown field: the held batches are dropped, not doubled.
    table = node_table(12, 3)
    node = BreakingNode(table, 3, break_after={1: 2}, refuse_resume=True)
    answer = fetch(node, tmp_path)
    assert node.asked == [None, 2, None]
    assert (answer.rows, answer.attempts) == (12, 3)
    assert landed(answer.path).equals(table)


def test_resumed_stream_that_does_not_continue_the_held_one_starts_over(
        tmp_path: Path) -> None:
    # A node whose store changed between attempts resends a pid already held: the hub
    # notices (units come in pid order) and asks for the whole stream again.
    table = node_table(12, 3)
    node = BreakingNode(table, 3, break_after={1: 2})
    original = node.__call__

    def shifted(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["body"].get("resume_from_batch"):
            node.asked.append(2)
            return httpx.Response(200, headers={"content-type": ARROW_STREAM},
                                  content=b"".join(batch_chunks(table.slice(5), 3)))
        return original(request)

    answer = fetch(shifted, tmp_path)
    assert node.asked == [None, 2, None]
    assert landed(answer.path).equals(table)


def test_stream_broken_on_every_attempt_fails_and_leaves_nothing(tmp_path: Path) -> None:
    table = node_table(12, 3)
    node = BreakingNode(table, 3, break_after={1: 1, 2: 0, 3: 0})
    with pytest.raises(NodeRequestError, match="gave up after 3 attempts") as caught:
        fetch(node, tmp_path, retries=2)
    assert caught.value.code == "node_unreachable"
    assert list(tmp_path.iterdir()) == []


def test_landed_stream_of_a_wrong_schema_is_refused_and_not_kept(tmp_path: Path) -> None:
    wrong = pa.table({"pid": ["a", "b"], "tokens": [1, 2]})
    body = b"".join(batch_chunks(wrong, 1))
    node = lambda request: httpx.Response(200, headers={"content-type": ARROW_STREAM},  # noqa: E731
                                          content=body)
    with pytest.raises(NodeRequestError, match="schema") as caught:
        fetch(node, tmp_path)
    assert caught.value.code == "bad_token_stream"
    assert list(tmp_path.iterdir()) == []


def test_fetch_all_lands_each_agency_in_its_own_file(tmp_path: Path) -> None:
    table = node_table(9, 2)
    body = b"".join(batch_chunks(table, 2))
    other = NodeTarget(agency="DSS", url="http://dss.node.test", request=TARGET.request)
    answers: list[NodeAnswer] = []
    node = lambda request: httpx.Response(200, headers={"content-type": ARROW_STREAM},  # noqa: E731
                                          content=body)
    with httpx.Client(transport=httpx.MockTransport(node)) as client:
        paths = fetch_all(client, [TARGET, other], policy(), stop=threading.Event(),
                          on_answer=answers.append, spool_dir=tmp_path)
    assert paths == {"K12": tmp_path / "K12.arrow", "DSS": tmp_path / "DSS.arrow"}
    assert sorted((a.agency, a.rows, a.batches) for a in answers) == [
        ("DSS", 9, 5), ("K12", 9, 5)]
    assert all(landed(path).equals(table) for path in paths.values())


def test_match_request_resume_from_batch_is_bounded() -> None:
    assert MatchRequest.model_validate(match_request_fields()).resume_from_batch == 0
    for bad in (-1, MAX_RESUME_BATCHES + 1, "3", 2.0):
        with pytest.raises(ValidationError, match="resume_from_batch"):
            MatchRequest.model_validate(match_request_fields(resume_from_batch=bad))
