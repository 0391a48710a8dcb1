"""Token joins, block caps and rule agreement on hand-made token tables."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pyarrow as pa

from hub.linkage.candidates import candidate_pairs, concat_ranges
from hub.linkage.compare import bloom_levels, key_levels
from hub.linkage.tokens import bloom_key, prepare

TOKENS = pa.list_(pa.binary(16))


def tok(value: str) -> bytes:
    return hashlib.blake2b(value.encode(), digest_size=16).digest()


def table(pids, **columns) -> pa.Table:
    data = {"pid": pa.array(pids, pa.string())}
    for name, rows in columns.items():
        data[name] = pa.array([[tok(v) for v in row] if row is not None else None
                               for row in rows], TOKENS)
    return pa.table(data)


def random_tables(rng, n_a, n_b, vocab, max_len):
    def rows(n):
        return [[f"t{rng.integers(vocab)}" for _ in range(rng.integers(0, max_len + 1))]
                for _ in range(n)]

    a = table([f"a{i}" for i in range(n_a)], mk_x=rows(n_a), bk_y=rows(n_a))
    b = table([f"b{i}" for i in range(n_b)], mk_x=rows(n_b), bk_y=rows(n_b))
    return a, b


def brute_pairs(a: pa.Table, b: pa.Table, keys) -> set[tuple[int, int]]:
    found = set()
    for key in keys:
        left, right = a.column(key).to_pylist(), b.column(key).to_pylist()
        for i, j in itertools.product(range(len(left)), range(len(right))):
            if set(left[i] or []) & set(right[j] or []):
                found.add((i, j))
    return found


def test_candidates_equal_brute_force_join_of_every_key_column():
    rng = np.random.default_rng(4)
    for _ in range(20):
        a, b = random_tables(rng, 40, 35, 30, 3)
        agencies, keys, _ = prepare({"a": a, "b": b})
        cand = candidate_pairs(agencies[0], agencies[1], keys, max_block=1000,
                               max_candidates=10**9)
        got = set(zip(cand.left_rows.tolist(), cand.right_rows.tolist(), strict=True))
        assert got == brute_pairs(a, b, keys)
        assert not cand.capped


def test_tokens_sharing_the_first_64_bits_do_not_pair():
    first = tok("x")
    other = first[:8] + bytes(8)  # same high word, different low word
    a = pa.table({"pid": ["a0"], "mk_x": pa.array([[first]], TOKENS)})
    b = pa.table({"pid": ["b0"], "mk_x": pa.array([[other]], TOKENS)})
    agencies, keys, _ = prepare({"a": a, "b": b})
    cand = candidate_pairs(agencies[0], agencies[1], keys, max_block=10, max_candidates=10)
    assert cand.count == 0


def test_block_over_cap_is_skipped_and_reported_with_the_rows_it_held():
    a = table([f"a{i}" for i in range(6)], mk_x=[["crowd"]] * 5 + [["solo"]])
    b = table(["b0", "b1"], mk_x=[["crowd"], ["solo"]])
    agencies, keys, _ = prepare({"a": a, "b": b})
    cand = candidate_pairs(agencies[0], agencies[1], keys, max_block=4, max_candidates=100)
    assert set(zip(cand.left_rows.tolist(), cand.right_rows.tolist(), strict=True)) == {(5, 1)}
    (capped,) = cand.capped
    assert (capped.key, capped.reason, capped.blocks) == ("mk_x", "max_block", 1)
    assert (capped.largest_left, capped.largest_right, capped.pairs_skipped) == (5, 1, 5)
    left_rows, right_rows = cand.skipped_rows["mk_x"]
    assert left_rows.tolist() == [True] * 5 + [False]
    assert right_rows.tolist() == [True, False]


def test_key_levels_equal_set_intersection_with_missing_kept_apart():
    rng = np.random.default_rng(9)
    a, b = random_tables(rng, 30, 30, 8, 4)
    agencies, _, _ = prepare({"a": a, "b": b})
    left_rows, right_rows = (x.ravel() for x in np.meshgrid(np.arange(30), np.arange(30)))
    levels = key_levels(agencies[0].keys["mk_x"], agencies[1].keys["mk_x"], left_rows,
                        right_rows)
    la, lb = a.column("mk_x").to_pylist(), b.column("mk_x").to_pylist()
    for i, j, level in zip(left_rows, right_rows, levels, strict=True):
        sa, sb = set(la[i] or []), set(lb[j] or [])
        expected = 0 if not sa or not sb else (2 if sa & sb else 1)
        assert level == expected


def test_null_token_lists_count_as_missing():
    a = table(["a0", "a1"], mk_x=[None, ["t"]])
    b = table(["b0"], mk_x=[["t"]])
    agencies, _, _ = prepare({"a": a, "b": b})
    levels = key_levels(agencies[0].keys["mk_x"], agencies[1].keys["mk_x"],
                        np.array([0, 1]), np.array([0, 0]))
    assert levels.tolist() == [0, 2]


def test_bloom_levels_cut_dice_into_bands_and_keep_missing_apart():
    scores = np.array([0.1, 0.5, 0.69, 0.7, 0.86, 0.95, 1.0, 0.99])
    present = np.array([True] * 7 + [False])
    levels = bloom_levels(scores, present, (0.95, 0.85, 0.7, 0.5))
    assert levels.tolist() == [1, 2, 2, 3, 4, 5, 5, 0]


def test_concat_ranges():
    out = concat_ranges(np.array([5, 0, 9]), np.array([2, 0, 3]))
    assert out.tolist() == [5, 6, 9, 10, 11]


def test_a_token_repeated_in_one_row_counts_that_record_once():
    a = table(["a0", "a1"], mk_x=[["t", "t", "u"], ["t"]])
    b = table(["b0"], mk_x=[["t"]])
    agencies, keys, _ = prepare({"a": a, "b": b})
    column = agencies[0].keys["mk_x"]
    assert column.lengths.tolist() == [2, 1]
    cand = candidate_pairs(agencies[0], agencies[1], keys, max_block=2, max_candidates=10)
    assert cand.count == 2 and not cand.capped


def test_pair_codes_do_not_overflow_on_large_agencies():
    n = 50_000  # n * n > 2**31: row numbers stored as int32 must be widened
    rng = np.random.default_rng(0)
    left_tokens = rng.bytes(16 * n)
    right_tokens = bytearray(rng.bytes(16 * n))
    right_tokens[-16:] = left_tokens[-16:]  # last rows share one token

    def column(buf):
        data = pa.py_buffer(bytes(buf))
        values = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), n, [None, data])
        return pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), values)
    a = pa.table({"pid": pa.array([f"a{i}" for i in range(n)]), "mk_x": column(left_tokens)})
    b = pa.table({"pid": pa.array([f"b{i}" for i in range(n)]), "mk_x": column(right_tokens)})
    agencies, keys, _ = prepare({"a": a, "b": b})
    cand = candidate_pairs(agencies[0], agencies[1], keys, max_block=10, max_candidates=10)
    assert (cand.left_rows.tolist(), cand.right_rows.tolist()) == ([n - 1], [n - 1])


def test_bloom_key_joins_identical_filters_only_where_present():
    rng = np.random.default_rng(1)
    filters = rng.integers(0, 256, (3, 64), dtype=np.uint8)
    filters[2] = filters[0]
    filters[1, -1] ^= 1  # one bit away from row 0: a different value
    column = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(64), 4, [pa.py_buffer(np.packbits([1, 1, 1, 0], bitorder="little")),
                           pa.py_buffer(np.vstack([filters, filters[:1]]).tobytes())])
    t = pa.table({"pid": ["r0", "r1", "r2", "r3"], "mk_x": pa.array([[]] * 4, TOKENS),
                  "bf_address": column})
    agencies, _, _ = prepare({"a": t, "b": t})
    key = bloom_key(agencies[0], ("bf_address",))
    assert key.lengths.tolist() == [1, 1, 1, 0]  # row 3 is null: no key
    assert key.hi[0] == key.hi[2] and key.lo[0] == key.lo[2]
    assert key.hi[0] != key.hi[1]
    agencies[0].keys["k"] = key
    agencies[1].keys["k"] = bloom_key(agencies[1], ("bf_address",))
    cand = candidate_pairs(agencies[0], agencies[1], ["k"], max_block=5, max_candidates=99)
    got = set(zip(cand.left_rows.tolist(), cand.right_rows.tolist(), strict=True))
    assert got == {(0, 0), (0, 2), (2, 0), (2, 2), (1, 1)}
