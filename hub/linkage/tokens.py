"""Arrow token tables → flat NumPy arrays the engine joins and compares.

A node sends one table per agency in ``protocol.encoding.token_batch_schema()``: ``pid``,
``mk_<rule>`` and ``bk_<rule>`` columns of ``list<fixed_size_binary(16)>`` and nullable
``bf_<field>`` columns of ``fixed_size_binary(BLOOM_BYTES)``. Each 16-byte token is viewed
as two int64 words (no copy of the bytes into Python objects), so joins are integer sorts
and comparisons are integer equality. Every key column is also indexed once per agency
(sorted by token, grouped) so each agency pair's join is a merge of two sorted arrays.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hub.linkage.config import (
    BLOCKING_KEY_PREFIX,
    BLOOM_PREFIX,
    MATCH_KEY_PREFIX,
    PID_COLUMN,
    LinkageError,
)

TOKEN_BYTES = 16


@dataclass(frozen=True, slots=True)
class TokenColumn:
    """One key column of one agency, flattened.

    Tokens of row ``r`` are ``hi[offsets[r]:offsets[r+1]]`` (and ``lo``), deduplicated;
    ``rows`` is the row of every flat token.
    ``order`` sorts the flat tokens by ``hi``; ``group_hi`` and ``group_bounds`` describe
    the runs of equal ``hi`` in that order (one run = one block): run ``g`` is
    ``order[group_bounds[g]:group_bounds[g + 1]]``. Positions and row numbers are int32
    when they fit (every real agency): at a million records a side the indexes of all key
    columns are the largest thing the engine holds.
    """

    hi: np.ndarray
    lo: np.ndarray
    rows: np.ndarray
    offsets: np.ndarray
    order: np.ndarray
    group_bounds: np.ndarray
    #: Rows that emitted the rule at all. The flat tokens keep only those another agency
    #: also holds (:func:`prepare`): a token nobody else has can neither join nor agree —
    #: the fixed-length lists' keyed dummies are all such — so a row may have none left
    #: and still have emitted ("disagree", not "missing").
    emitted: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per row (those kept)."""
        return np.diff(self.offsets)

    @property
    def group_hi(self) -> np.ndarray:
        """The token (first word) of each run, ascending: computed when a join needs it,
        not kept (a million records hold millions of runs per key column)."""
        return self.hi[self.order[self.group_bounds[:-1]]]

    def counts(self, rows: np.ndarray) -> np.ndarray:
        """Kept tokens of each of ``rows`` (from the offsets)."""
        return self.offsets[rows + 1] - self.offsets[rows]


@dataclass(frozen=True, slots=True)
class BloomColumn:
    """One Bloom-filter field of one agency: ``bits`` is ``(n, bytes)`` uint8, ``ones``
    the number of bits set in each row (counted once here, not once per candidate pair)."""

    bits: np.ndarray
    valid: np.ndarray
    ones: np.ndarray

    @classmethod
    def of(cls, bits: np.ndarray, valid: np.ndarray) -> BloomColumn:
        """The column of ``bits`` with its per-row popcounts."""
        ones = np.bitwise_count(bits).sum(axis=1, dtype=np.int32)
        return cls(bits=bits, valid=np.asarray(valid, dtype=bool), ones=ones)


@dataclass(frozen=True, slots=True)
class AgencyTokens:
    """One agency's token table, ready for joins and comparisons."""

    name: str
    pids: pa.Array
    keys: dict[str, TokenColumn]
    blooms: dict[str, BloomColumn]

    @property
    def size(self) -> int:
        return len(self.pids)


def _single_array(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array: its only chunk as is (no copy), else the chunks joined."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _fixed_binary_matrix(array: pa.Array, width: int) -> np.ndarray:
    """Bytes of a fixed_size_binary array as an ``(n, width)`` uint8 matrix (null slots
    hold whatever the buffer holds; callers mask them)."""
    n = len(array)
    data = array.buffers()[1]
    if data is None or n == 0:
        return np.zeros((n, width), dtype=np.uint8)
    flat = np.frombuffer(data, dtype=np.uint8)
    start = array.offset * width
    return flat[start : start + n * width].reshape(n, width)


_RawTokens = tuple[np.ndarray, np.ndarray, np.ndarray]


def _raw_tokens(column: pa.ChunkedArray, name: str) -> _RawTokens:
    """``(hi, lo, parents)`` of a list-of-tokens column: the two 64-bit words of every
    token and the row it belongs to (non-decreasing)."""
    array = _single_array(column)
    if not (pa.types.is_list(array.type) or pa.types.is_large_list(array.type)):
        raise LinkageError(f"column {name} is {array.type}, expected a list of 16-byte tokens")
    values = pc.list_flatten(array)
    parents = pc.list_parent_indices(array).to_numpy().astype(np.int64, copy=False)
    if not pa.types.is_fixed_size_binary(values.type) or values.type.byte_width != TOKEN_BYTES:
        raise LinkageError(f"column {name} holds {values.type}, expected 16-byte tokens")
    words = _fixed_binary_matrix(values, TOKEN_BYTES).view("<i8")
    hi, lo = words[:, 0].copy(), words[:, 1].copy()
    if values.null_count:
        keep = values.is_valid().to_numpy(zero_copy_only=False)
        hi, lo, parents = hi[keep], lo[keep], parents[keep]
    return hi, lo, parents


def _shared_tokens(raws: list[_RawTokens], within: list[bool] | None = None) -> list[_RawTokens]:
    """Each agency's tokens, only those (by first word) some other agency holds too: one
    stable sort of every agency's tokens together, then the runs of equal words that
    span more than one agency. An agency flagged in ``within`` (it may hold duplicates,
    so its records are paired with each other) also keeps a token it holds twice."""
    sizes = [len(hi) for hi, _, _ in raws]
    pooled = np.concatenate([hi for hi, _, _ in raws]) if raws else np.zeros(0, np.int64)
    if len(pooled) == 0:
        return raws
    owner = np.repeat(np.arange(len(raws), dtype=np.int32), sizes)
    order = stable_argsort(pooled)
    starts = np.flatnonzero(run_starts(pooled[order]))
    owners = owner[order]
    spans = np.minimum.reduceat(owners, starts) != np.maximum.reduceat(owners, starts)
    if within is not None and any(within):
        repeated = np.diff(np.append(starts, len(pooled))) > 1
        spans |= repeated & np.asarray(within, dtype=bool)[owners[starts]]
    keep = np.empty(len(pooled), dtype=bool)
    keep[order] = np.repeat(spans, np.diff(np.append(starts, len(pooled))))
    out, start = [], 0
    for (hi, lo, parents), size in zip(raws, sizes, strict=True):
        mine = keep[start : start + size]
        out.append((hi[mine], lo[mine], parents[mine]))
        start += size
    return out


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` of a 1-D int64 array, 3-4× faster.

    NumPy's stable argsort of 64-bit keys is a comparison sort, while its plain ``sort``
    is vectorised. So the row number is packed into the low bits of each key (its high
    bits in unsigned order): sorting those packed keys orders by value, ties by position.
    Two values equal in their kept high bits but different below could interleave; the
    check below catches that and a stable sort of the nearly sorted result (linear on
    runs) settles it, so the result is always exactly the stable argsort.
    """
    n = len(values)
    if n < 2 or values.dtype != np.int64:
        return np.argsort(values, kind="stable")
    bits = (n - 1).bit_length()
    key = values.view(np.uint64) ^ np.uint64(1 << 63)  # signed order → unsigned order
    key >>= np.uint64(bits)
    key <<= np.uint64(bits)
    key |= np.arange(n, dtype=np.uint64)
    key.sort()
    key &= np.uint64((1 << bits) - 1)
    order = key.view(np.int64)
    ordered = values[order]
    if (ordered[1:] < ordered[:-1]).any():
        order = order[np.argsort(ordered, kind="stable")]
    return order


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Flags of the sorted ``ordered`` values that start a run of equal values."""
    first = np.ones(len(ordered), dtype=bool)
    if len(ordered) > 1:
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first


def _index(
    hi: np.ndarray, lo: np.ndarray, parents: np.ndarray, n_rows: int, emitted: np.ndarray
) -> TokenColumn:
    """Deduplicate and index flat tokens (``parents`` non-decreasing)."""
    # ``parents`` is non-decreasing, so a stable sort by token keeps each token's rows in
    # order: a row emitting the same token twice shows up as adjacent equal entries.
    order = stable_argsort(hi)
    if len(order) > 1:
        h, p, lo_sorted = hi[order], parents[order], lo[order]
        repeat = (h[1:] == h[:-1]) & (p[1:] == p[:-1]) & (lo_sorted[1:] == lo_sorted[:-1])
        if repeat.any():
            # Deduplicate so a block counts records, not emissions (rare: keep it simple).
            keep = np.ones(len(hi), dtype=bool)
            keep[order[1:][repeat]] = False
            hi, lo, parents = hi[keep], lo[keep], parents[keep]
            order = stable_argsort(hi)
    # Row numbers and positions fit in 32 bits for any real agency: less memory per token.
    index_type = np.int32 if len(hi) < 2**31 and n_rows < 2**31 else np.int64
    offsets = np.zeros(n_rows + 1, dtype=index_type)
    np.cumsum(np.bincount(parents, minlength=n_rows), out=offsets[1:])
    sorted_hi = hi[order]
    bounds = np.append(np.flatnonzero(run_starts(sorted_hi)), len(sorted_hi)).astype(index_type)
    return TokenColumn(
        hi=hi,
        lo=lo,
        rows=parents.astype(index_type),
        offsets=offsets,
        order=order.astype(index_type, copy=False),
        group_bounds=bounds,
        emitted=emitted,
    )


def _bloom_column(column: pa.ChunkedArray, name: str) -> BloomColumn:
    array = _single_array(column)
    if not pa.types.is_fixed_size_binary(array.type):
        raise LinkageError(f"column {name} is {array.type}, expected fixed-size Bloom filters")
    bits = _fixed_binary_matrix(array, array.type.byte_width)
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    return BloomColumn.of(bits, valid)


_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93],
    dtype=np.uint64,
)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit affects every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX[1]
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX[2]
    return x ^ (x >> np.uint64(31))


def bloom_key(agency: AgencyTokens, columns: tuple[str, ...]) -> TokenColumn:
    """A blocking key derived on the hub from Bloom filters: one 128-bit hash of the
    concatenated filters of ``columns`` for every record that has all of them.

    Equal filters mean equal normalised values (same address; same first and last name),
    so this adds candidate pairs that share no token — a record whose birth date is wrong
    or missing shares no date-bearing key — without the hub learning anything new.
    """
    n = agency.size
    valid = np.ones(n, dtype=bool)
    hi = np.zeros(n, dtype=np.uint64)
    lo = np.zeros(n, dtype=np.uint64)
    for position, name in enumerate(columns):
        column = agency.blooms[name]
        valid &= column.valid
        bits = np.ascontiguousarray(column.bits)
        pad = (-bits.shape[1]) % 8
        words = np.pad(bits, ((0, 0), (0, pad))).view(np.uint64)
        with np.errstate(over="ignore"):
            for w in range(words.shape[1]):
                salt = np.uint64((position * 64 + w + 1) * 0x632BE59BD9B4E019 % 2**64)
                hi = mix64(hi ^ words[:, w] ^ salt)
                lo = mix64(lo ^ words[:, w] ^ (salt * _MIX[3]))
    rows = np.flatnonzero(valid)
    return _index(hi[rows].view(np.int64), lo[rows].view(np.int64), rows, n, valid)


def prepare(
    tables: Mapping[str, pa.Table], dedup: Collection[str] = ()
) -> tuple[list[AgencyTokens], list[str], list[str]]:
    """Validate and flatten every agency's table.

    Returns the agencies (sorted by name, so runs are deterministic), the key columns and
    the Bloom columns found in any table. A column absent from one agency's table counts
    as all-missing there. ``dedup``: agencies that may hold duplicates (their records are
    also paired with each other, so one such agency may come alone).
    """
    if len(tables) < 2 and not (len(tables) == 1 and set(tables) <= set(dedup)):
        raise LinkageError(
            "linkage needs token tables from at least two agencies, or one listed in dedup"
        )
    key_names: set[str] = set()
    bloom_names: set[str] = set()
    for agency, table in tables.items():
        if PID_COLUMN not in table.column_names:
            raise LinkageError(f"the token table of {agency} has no {PID_COLUMN} column")
        for name in table.column_names:
            if name.startswith((MATCH_KEY_PREFIX, BLOCKING_KEY_PREFIX)):
                key_names.add(name)
            elif name.startswith(BLOOM_PREFIX):
                bloom_names.add(name)
    keys = sorted(key_names, key=lambda k: (not k.startswith(MATCH_KEY_PREFIX), k))
    blooms = sorted(bloom_names)
    if not keys:
        raise LinkageError("the token tables have no match-key or blocking-key column")
    agencies = []
    for agency in sorted(tables):
        table = tables[agency]
        pids = _single_array(table.column(PID_COLUMN))
        if pids.null_count:
            raise LinkageError(f"the token table of {agency} has rows without a pid")
        if len(pc.unique(pids)) != len(pids):
            raise LinkageError(f"the token table of {agency} repeats a pid")
        n = table.num_rows
        bloom_cols = {}
        for name in blooms:
            if name in table.column_names:
                bloom_cols[name] = _bloom_column(table.column(name), f"{agency}.{name}")
            else:
                bloom_cols[name] = BloomColumn.of(np.zeros((n, 1), np.uint8), np.zeros(n, bool))
        agencies.append(AgencyTokens(agency, pids, {}, bloom_cols))
    for name in keys:
        # One key column at a time, all agencies together: only the tokens another agency
        # also holds are indexed (at a million records a side, the dummies alone were
        # 1.7 times the real tokens).
        raws = []
        for agency in agencies:
            table = tables[agency.name]
            column = table.column(name) if name in table.column_names else pa.chunked_array(
                [pa.array([[]] * agency.size, pa.list_(pa.binary(TOKEN_BYTES)))])
            raws.append(_raw_tokens(column, f"{agency.name}.{name}"))
        emitted = [np.bincount(parents, minlength=agency.size) > 0
                   for (_, _, parents), agency in zip(raws, agencies, strict=True)]
        kept = _shared_tokens(raws, [a.name in dedup for a in agencies] if dedup else None)
        for agency, (hi, lo, parents), flags in zip(agencies, kept, emitted, strict=True):
            agency.keys[name] = _index(hi, lo, parents, agency.size, flags)
    return agencies, keys, blooms
