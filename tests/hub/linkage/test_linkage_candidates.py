"""Token joins, block caps and rule agreement on hand-made token tables."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pyarrow as pa

from hub.linkage.candidates import candidate_pairs, concat_ranges, sorted_unique
from hub.linkage.compare import bloom_levels, dice_scores, key_levels
from hub.linkage.config import LinkageConfig
from hub.linkage.tokens import BloomColumn, bloom_key, prepare, stable_argsort
from protocol.bloom import BLOOM_BYTES, dice_many

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
    # "t" once per row; "u" is held by no other agency, so it is not indexed at all.
    assert column.lengths.tolist() == [1, 1]
    cand = candidate_pairs(agencies[0], agencies[1], keys, max_block=2, max_candidates=10)
    assert cand.count == 2 and not cand.capped


def test_tokens_no_other_agency_holds_are_dropped_but_the_row_still_emitted():
    # The fixed-length lists' dummies, and real tokens without a partner, can neither
    # join nor agree: not indexed. Their rows still emitted ("disagree", not "missing").
    a = table(["a0", "a1", "a2"], mk_x=[["t", "d1"], ["d2"], []])
    b = table(["b0", "b1"], mk_x=[["t", "d3"], ["d4"]])
    agencies, _, _ = prepare({"a": a, "b": b})
    left, right = agencies[0].keys["mk_x"], agencies[1].keys["mk_x"]
    assert left.lengths.tolist() == [1, 0, 0] and right.lengths.tolist() == [1, 0]
    assert left.emitted.tolist() == [True, True, False]
    levels = key_levels(left, right, np.array([0, 1, 2]), np.array([0, 1, 1]))
    assert levels.tolist() == [2, 1, 0]


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


def test_sorted_unique_equals_np_unique_on_random_inputs():
    rng = np.random.default_rng(7)
    for n, high in ((0, 5), (1, 5), (2, 2), (1000, 10), (5000, 10**12)):
        values = rng.integers(-high, high, n, dtype=np.int64)
        expected = np.unique(values, return_index=True, return_inverse=True)
        got = sorted_unique(values, return_index=True, return_inverse=True)
        for e, g in zip(expected, got, strict=True):
            assert np.array_equal(e.ravel(), g)
        assert np.array_equal(sorted_unique(values), expected[0])
        assert np.array_equal(sorted_unique(values, return_index=True)[1], expected[1])
        assert np.array_equal(sorted_unique(values, return_inverse=True)[1], expected[2].ravel())
        copy = values.copy()
        assert np.array_equal(sorted_unique(copy, overwrite=True), expected[0])


def test_stable_argsort_equals_numpy_stable_argsort_even_when_high_bits_collide():
    rng = np.random.default_rng(3)
    wide = rng.integers(-(2**63), 2**63 - 1, 4000, dtype=np.int64)
    # Values that agree above bit 20 and differ below: the packed keys interleave them.
    close = (wide[:50] >> 20 << 20)[rng.integers(0, 50, 4000)] + rng.integers(0, 3, 4000)
    for values in (wide, close, wide[:1], rng.integers(0, 4, 1000), np.zeros(0, np.int64)):
        assert np.array_equal(stable_argsort(values), np.argsort(values, kind="stable"))


def test_dice_scores_equal_dice_many_with_missing_filters_apart():
    rng = np.random.default_rng(5)
    n = 300
    bits = [(rng.random((n, BLOOM_BYTES)) < 0.03).astype(np.uint8) * 255 for _ in range(2)]
    bits[1][:100] = bits[0][:100]  # some identical filters
    bits[0][5] = 0  # an empty filter: Dice 0, not an error
    valid = [rng.random(n) < 0.9 for _ in range(2)]
    left, right = BloomColumn.of(bits[0], valid[0]), BloomColumn.of(bits[1], valid[1])
    lr, rr = rng.integers(0, n, 2000), rng.integers(0, n, 2000)
    scores, present = dice_scores(left, right, lr, rr)
    assert np.array_equal(present, valid[0][lr] & valid[1][rr])
    expected = dice_many(bits[0][lr], bits[1][rr])
    assert np.array_equal(scores[present], expected[present])
    assert not scores[~present].any()


def test_a_key_specific_cap_skips_and_reports_only_that_key_s_blocks():
    a = table([f"a{i}" for i in range(6)], mk_x=[["crowd"]] * 5 + [["solo"]],
              bk_y=[["crowd"]] * 5 + [["solo"]])
    b = table(["b0", "b1"], mk_x=[["crowd"], ["solo"]], bk_y=[["crowd"], ["solo"]])
    agencies, keys, _ = prepare({"a": a, "b": b})
    cand = candidate_pairs(agencies[0], agencies[1], keys, max_block=100, max_candidates=100,
                           block_caps={"bk_y": 4})
    # The crowd still pairs through mk_x; only bk_y's block is skipped, and reported.
    assert cand.count == 6
    (capped,) = cand.capped
    assert (capped.key, capped.reason, capped.blocks, capped.pairs_skipped) == (
        "bk_y", "max_block", 1, 5)


def test_config_caps_hub_bloom_keys_with_bloom_max_block():
    config = LinkageConfig(max_block=300, bloom_max_block=7)
    caps = config.block_caps(["mk_a", "bk_b", "bloom:bf_address"])
    assert caps == {"mk_a": 300, "bk_b": 300, "bloom:bf_address": 7}
