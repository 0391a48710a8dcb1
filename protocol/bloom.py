"""Keyed, XOR-folded Bloom-filter encodings of names and address, for fuzzy comparison.

Construction (Schnell, Bachteler & Reiher 2009, hardened; see
``docs/tokens-and-bloom-filters.md`` for the reasoning and the citations):

1. The normalised value is padded with one ``NUL`` byte on each side and cut into byte
   bigrams (``SMITH`` → ``␀S SM MI IT TH H␀``).
2. Each distinct bigram sets ``k`` bits of a :data:`RAW_BITS`-bit filter. The positions are
   *random hashing*: independent 16-bit words of HMAC-SHA256(field sub-key, bigram ‖ block),
   reduced mod :data:`RAW_BITS` (unbiased: 65536 is a multiple of it). Not double hashing,
   whose arithmetic structure is what Niedermeyer et al. 2014 exploited. The sub-key is
   per project and per field, so the hub cannot build a filter for a guessed value, and a
   bigram sets different bits in different fields and projects.
3. The filter is XOR-folded once (Schnell, Borgs & Encheva 2016): bit ``i`` of the result
   is ``raw[i] XOR raw[i + RAW_BITS/2]``. Folding is not invertible and breaks the
   one-bigram → fixed-set-of-one-bits correspondence that frequency / pattern-mining
   cryptanalysis (Christen et al. 2017, 2018, 2019) relies on.

Similarity is the Dice coefficient of the folded filters, as in the XOR-folding paper.

Fields (:data:`BLOOM_FIELDS`): first name, last name, address (street + ZIP), middle name
(full names only; its sub-key is HKDF-Expand of the first-name sub-key with its own label),
and ``first_name_as_last`` — the first name under the *last-name* sub-key, comparable only
with last-name filters, so the hub can see first and last names written in each other's
field (``docs/tokens-and-bloom-filters.md`` §3 weighs what that exposes).

The bigram → bit-pattern mapping depends only on (sub-key, field), and bigrams repeat
enormously, so each pattern is computed once per process and kept in a dense table indexed
by the bigram's two bytes; encoding a batch is then a table gather and one scatter into a
bit matrix (:func:`bloom_encode_many`). This is exactly equivalent to hashing every time, and the
table never leaves the node.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Sequence
from functools import lru_cache
from itertools import compress, repeat
from types import MappingProxyType
from typing import Final, cast

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from protocol.errors import EncodingError
from protocol.keys import SUB_KEY_BYTES, ProjectKeys

BLOOM_FIELDS: Final[tuple[str, ...]] = (
    "first_name",
    "last_name",
    "address",
    "middle_name",
    "first_name_as_last",
)

#: Length of a filter before folding.
RAW_BITS: Final = 1024
#: Length of a shipped (folded) filter.
BLOOM_BITS: Final = RAW_BITS // 2
BLOOM_BYTES: Final = BLOOM_BITS // 8

#: Bits set per bigram, per field. Chosen so a typical value sets about 10 % of the raw
#: filter (names: 6-10 bigrams; street + ZIP: 15-25), which keeps Dice discriminating
#: after folding; see docs/tokens-and-bloom-filters.md for the measurements.
_NAME_K: Final = 15
HASHES_PER_QGRAM: Final = MappingProxyType(
    {
        "first_name": _NAME_K,
        "last_name": _NAME_K,
        "address": 5,
        "middle_name": _NAME_K,
        # Same key and k as last_name, so the two are comparable (the swap comparison).
        "first_name_as_last": _NAME_K,
    }
)
#: Shortest middle name encoded: an initial alone is not compared (its Dice with the full
#: name would read as a disagreement).
MIN_MIDDLE_NAME_LETTERS: Final = 2

_RAW_WORDS: Final = RAW_BITS // 64
_PAD: Final = "\x00"
#: Distinct values per chunk: bounds the temporary (values x RAW_BITS) bool matrix to 2 MiB.
_CHUNK: Final = 2048

U8Array = npt.NDArray[np.uint8]
BoolArray = npt.NDArray[np.bool_]
F64Array = npt.NDArray[np.float64]


class _QGramTable:
    """Raw-filter bit positions of every bigram seen so far, for one (sub-key, k)."""

    __slots__ = ("_k", "_key", "known", "positions")

    def __init__(self, key: bytes, k: int) -> None:
        self._key = key
        self._k = k
        # Indexed by the bigram's two bytes. np.zeros is calloc-backed: untouched rows
        # cost no memory.
        self.positions = np.zeros((1 << 16, k), dtype=np.int16)
        self.known = np.zeros(1 << 16, dtype=np.bool_)

    def _hash(self, qgram_id: int) -> list[int]:
        qgram = qgram_id.to_bytes(2, "big")
        words: list[int] = []
        block = 0
        while len(words) < self._k:
            digest = hmac.digest(self._key, qgram + block.to_bytes(1, "big"), "sha256")
            words.extend(int.from_bytes(digest[i : i + 2], "big") for i in range(0, 32, 2))
            block += 1
        return [w % RAW_BITS for w in words[: self._k]]

    def lookup(self, ids: npt.NDArray[np.int32]) -> npt.NDArray[np.int16]:
        """``(len(ids), k)`` bit positions, hashing only bigrams never seen before."""
        unseen = ids[~self.known[ids]]
        if unseen.size:
            missing = np.unique(unseen)
            self.positions[missing] = [self._hash(q) for q in missing.tolist()]
            self.known[missing] = True
        return self.positions[ids]


# Tables per (sub-key, k). Bounded: a node serves few projects at once, and a table is at
# most 8 MiB (in practice a few hundred KiB of touched pages).
_TABLES: dict[tuple[bytes, int], _QGramTable] = {}
_MAX_TABLES: Final = 12
_TABLES_LOCK = threading.Lock()  # a node may encode in several threads


@lru_cache(maxsize=_MAX_TABLES)
def _middle_name_key(first_name_key: bytes) -> bytes:
    """The middle-name sub-key: HKDF-Expand of the first-name sub-key (a uniformly random
    32-byte PRK) with its own label, so the two given-name filters set unrelated bits."""
    return HKDFExpand(
        algorithm=SHA256(), length=SUB_KEY_BYTES, info=b"fedlink/1 bloom middle_name"
    ).derive(first_name_key)


def _sub_key(keys: ProjectKeys, field: str) -> bytes:
    if field == "middle_name":
        return _middle_name_key(keys.bloom_key("first_name"))
    if field == "first_name_as_last":
        # The first name under the last-name key: comparable with a last-name filter, so
        # the hub can see a first/last swap, and with nothing else.
        return keys.bloom_key("last_name")
    return keys.bloom_key(field)


def _table(keys: ProjectKeys, field: str) -> _QGramTable:
    if field not in HASHES_PER_QGRAM:
        raise EncodingError(f"no Bloom filter is defined for field {field!r}")
    cache_key = (_sub_key(keys, field), HASHES_PER_QGRAM[field])
    with _TABLES_LOCK:
        table = _TABLES.get(cache_key)
        if table is None:
            if len(_TABLES) >= _MAX_TABLES:
                _TABLES.pop(next(iter(_TABLES)))  # oldest first: dicts keep insertion order
            table = _TABLES[cache_key] = _QGramTable(*cache_key)
        return table


def _padded_bytes(values: list[str]) -> tuple[bytes, npt.NDArray[np.int64]]:
    """Concatenate ``␀v␀`` for every value; return the bytes and each value's start."""
    joined = _PAD + (_PAD + _PAD).join(values) + _PAD
    if joined.count(_PAD) != 2 * len(values):
        # NUL is the padding byte; a value holding one would forge pad bigrams.
        raise EncodingError("a Bloom-encoded value must not contain NUL characters")
    if joined.isascii():
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        data = joined.encode("ascii")
    else:  # UTF-8 lengths differ from character counts
        encoded = [v.encode("utf-8") for v in values]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        data = b"\x00" + b"\x00\x00".join(encoded) + b"\x00"
    starts = np.zeros(len(values), dtype=np.int64)
    np.cumsum(lengths[:-1] + 2, out=starts[1:])
    return data, starts


def bloom_encode_many(
    field: str, values: Sequence[str | None], keys: ProjectKeys
) -> tuple[U8Array, BoolArray]:
    """Encode many values of one field at once.

    Returns ``(filters, present)``: an ``(n, BLOOM_BYTES)`` uint8 array (all-zero rows where
    the value is missing) and an ``(n,)`` bool array, False where the value is ``None`` or
    empty.
    """
    table = _table(keys, field)
    n = len(values)
    present = np.fromiter(map(bool, values), dtype=np.bool_, count=n)
    # Names repeat a lot within a batch: encode each distinct value once, then gather.
    distinct = {v: i for i, v in enumerate(dict.fromkeys(compress(values, present.tolist())))}
    encoded = np.zeros((len(distinct) + 1, _RAW_WORDS // 2), dtype=np.uint64)  # last: empty
    unique_values = cast(list[str], list(distinct))
    for lo in range(0, len(unique_values), _CHUNK):
        chunk = unique_values[lo : lo + _CHUNK]
        encoded[lo : lo + len(chunk)] = _encode_chunk(table, chunk)
    missing = len(distinct)
    # dict.get with a default, mapped in C: None and "" are not keys, so they get ``missing``.
    rows = np.fromiter(map(distinct.get, values, repeat(missing)), dtype=np.intp, count=n)
    return encoded[rows].view(np.uint8), present


def _encode_chunk(table: _QGramTable, values: list[str]) -> npt.NDArray[np.uint64]:
    """Folded filters of non-empty ``values`` as ``(len(values), BLOOM_BYTES // 8)`` words."""
    data, starts = _padded_bytes(values)
    raw = np.frombuffer(data, dtype=np.uint8).astype(np.int32)
    ids = (raw[:-1] << 8) | raw[1:]
    # Bigram i belongs to the value whose padded bytes start at or before i.
    owner = np.repeat(np.arange(len(values)), np.diff(starts, append=ids.size))
    real = ids != 0  # (NUL, NUL) only spans two values: it is not a bigram of either
    ids, owner = ids[real], owner[real]
    flat = owner[:, None] * RAW_BITS + table.lookup(ids)
    bits = np.zeros((len(values), RAW_BITS), dtype=np.bool_)
    bits.reshape(-1)[flat.ravel()] = True
    raw_filters = np.packbits(bits, axis=1, bitorder="little").view(np.uint64)
    half = _RAW_WORDS // 2
    return raw_filters[:, :half] ^ raw_filters[:, half:]  # the XOR-fold


def bloom_encode(field: str, value: str | None, keys: ProjectKeys) -> bytes | None:
    """The folded Bloom filter (:data:`BLOOM_BYTES` bytes) of one value, ``None`` if missing."""
    filters, present = bloom_encode_many(field, [value], keys)
    return filters[0].tobytes() if present[0] else None


def dice(a: bytes, b: bytes) -> float:
    """Dice coefficient 2|A∩B| / (|A|+|B|) of two filters; 0.0 when both are empty."""
    if len(a) != BLOOM_BYTES or len(b) != BLOOM_BYTES:
        raise EncodingError(f"Bloom filters must be {BLOOM_BYTES} bytes")
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    total = x.bit_count() + y.bit_count()
    return 2.0 * (x & y).bit_count() / total if total else 0.0


_POPCOUNT8: Final = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)


def _popcount_rows(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    if hasattr(np, "bitwise_count"):  # numpy >= 2: one popcount instruction per word
        return cast(npt.NDArray[np.int64], np.bitwise_count(words).sum(axis=1, dtype=np.int64))
    return _popcount_rows_lut(words)


def _popcount_rows_lut(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    counts = _POPCOUNT8[words.view(np.uint8)]
    return cast(npt.NDArray[np.int64], counts.sum(axis=1, dtype=np.int64))


def _as_words(filters: U8Array, name: str) -> npt.NDArray[np.uint64]:
    if filters.ndim != 2 or filters.shape[1] != BLOOM_BYTES or filters.dtype != np.uint8:
        raise EncodingError(f"{name} must be an (n, {BLOOM_BYTES}) uint8 array")
    return np.ascontiguousarray(filters).view(np.uint64)


def dice_many(left: U8Array, right: U8Array) -> F64Array:
    """Row-wise Dice of two ``(n, BLOOM_BYTES)`` uint8 arrays: the engine's hot path.

    Row ``i`` of the result is ``dice(left[i], right[i])``; 0.0 where both rows are empty
    (mask missing filters before calling, a zero row is not a value).
    """
    a = _as_words(left, "left")
    b = _as_words(right, "right")
    if a.shape[0] != b.shape[0]:
        raise EncodingError("left and right must have the same number of rows")
    both = _popcount_rows(a & b)
    total = _popcount_rows(a) + _popcount_rows(b)
    result = np.zeros(a.shape[0], dtype=np.float64)
    np.divide(2.0 * both, total, out=result, where=total > 0)
    return result
