"""Reading a node's token stream: every batch landed, in order, in an Arrow IPC file;
anything but the protocol's token stream refused."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from types import SimpleNamespace

import httpx
import pyarrow as pa
import pytest

from hub.errors import NodeRequestError
from hub.services.node_fetch import ARROW_STREAM, _Landing, _read_stream
from protocol.encoding import encode_batches, token_batch_schema
from protocol.identity import NormalizedIdentity
from protocol.keys import derive_project_keys, pseudonymous_id

KEYS = derive_project_keys(b"\x21" * 32, b"node-fetch-stream-salt-012345678",
    project_id="P-test", project_digest="ab" * 32)


def stream_bytes(n: int, batch_size: int) -> tuple[bytes, pa.Table]:
    records = [
        (pseudonymous_id(b"\x31" * 32, "P-1", f"R{i}"),
         NormalizedIdentity(first_name=f"ANNA{'X' * (i % 5)}", last_name="SMITH"))
        for i in range(n)
    ]
    batches = list(encode_batches(records, KEYS, batch_size))
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, batches[0].schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue(), pa.Table.from_batches(batches)


def read(body: bytes, spool: Path, media: str = ARROW_STREAM):
    """The stream landed as it arrives: (the landed file's table, batches, bytes)."""
    response = httpx.Response(200, headers={"content-type": media}, content=body)
    target = SimpleNamespace(agency="k12")
    policy = SimpleNamespace(max_response_bytes=1 << 30)
    landing = _Landing(spool / "k12.arrow")
    try:
        _read_stream(target, response, policy, threading.Event(), landing)
    except BaseException:
        landing.restart()
        raise
    path = landing.finish()
    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    return table, landing.batches, landing.received


def test_token_stream_of_many_batches_lands_batch_by_batch_in_a_file(tmp_path: Path) -> None:
    body, expected = stream_bytes(23, batch_size=5)
    table, batches, size = read(body, tmp_path)
    assert batches == 5 and size == len(body)
    assert [b.num_rows for b in table.to_batches()] == [5, 5, 5, 5, 3]
    assert table.equals(expected)
    assert table.schema.equals(token_batch_schema(), check_metadata=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k12.arrow"]


def test_stream_that_is_not_arrow_is_refused_naming_the_node(tmp_path: Path) -> None:
    with pytest.raises(NodeRequestError, match="k12") as caught:
        read(b"<html>hello</html>", tmp_path, media="text/html")
    assert caught.value.code == "bad_token_stream"


def test_stream_of_the_legacy_field_level_encoding_is_refused(tmp_path: Path) -> None:
    # A node still on fedlink/1 (deterministic field-level filters, variable-length lists)
    # is refused by its schema and metadata, never linked.
    from protocol.columns import IdentityColumns
    from protocol.encoding_legacy import encode_columns_legacy

    people = [NormalizedIdentity(first_name="ANNA", last_name="SMITH")] * 3
    pids = [pseudonymous_id(b"\x31" * 32, "P-1", f"R{i}") for i in range(3)]
    batch = encode_columns_legacy(pids, IdentityColumns.of(people), KEYS)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    with pytest.raises(NodeRequestError, match="k12") as caught:
        read(sink.getvalue(), tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert caught.value.code == "bad_token_stream"
