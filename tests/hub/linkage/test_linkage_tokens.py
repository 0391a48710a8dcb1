"""Reading token tables: one chunk is read in place, many chunks give the same columns."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

from hub.linkage.tokens import prepare
from protocol.bloom import BLOOM_BYTES

TOKENS = pa.list_(pa.binary(16))
BLOOM = pa.binary(BLOOM_BYTES)


def tok(value: str) -> bytes:
    return hashlib.blake2b(value.encode(), digest_size=16).digest()


def token_table(n: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    keys = [[tok(f"t{rng.integers(40)}") for _ in range(rng.integers(0, 3))] for _ in range(n)]
    blooms = [None if i % 7 == 0 else rng.bytes(BLOOM_BYTES) for i in range(n)]
    return pa.table({
        "pid": pa.array([f"{i:032x}" for i in range(n)], pa.string()),
        "mk_x": pa.array(keys, TOKENS),
        "bf_first_name": pa.array(blooms, BLOOM),
    })


def _address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def test_one_chunk_bloom_filters_are_read_in_place_not_copied() -> None:
    table = token_table(50)
    column = table.column("bf_first_name")
    assert column.num_chunks == 1
    (agency, _), _, _ = prepare({"a": table, "b": token_table(5, seed=2)})
    chunk = column.chunk(0)
    assert _address(agency.blooms["bf_first_name"].bits) == (
        chunk.buffers()[1].address + chunk.offset * BLOOM_BYTES
    )


def test_many_chunks_prepare_the_same_columns_as_one() -> None:
    one = token_table(60)
    many = pa.Table.from_batches(one.to_batches(max_chunksize=7))
    assert many.column("mk_x").num_chunks > 1
    other = token_table(9, seed=3)
    (a1, _), keys, blooms = prepare({"a": one, "b": other})
    (a2, _), _, _ = prepare({"a": many, "b": other})
    assert a1.pids.equals(a2.pids)
    for name in keys:
        left, right = a1.keys[name], a2.keys[name]
        for part in ("hi", "lo", "rows", "offsets", "order", "group_bounds"):
            np.testing.assert_array_equal(getattr(left, part), getattr(right, part))
    for name in blooms:
        left, right = a1.blooms[name], a2.blooms[name]
        np.testing.assert_array_equal(left.valid, right.valid)
        np.testing.assert_array_equal(left.bits[left.valid], right.bits[right.valid])
        np.testing.assert_array_equal(left.ones[left.valid], right.ones[right.valid])
