"""Encodings as sets of feature ids, so one attack serves every similarity encoding.

- a Bloom filter (``bf_*``, fixed-size binary): feature = index of a set bit;
- a MinHash signature (``mh_*``, fixed-size binary, one byte per slot): feature =
  ``slot * 256 + byte value``.

Identical encodings are merged (:class:`EncodedColumn` keeps, per distinct encoding, how
many records carry it, and per record which distinct encoding it has). Values are cut
into the same byte bigrams as the encoders use (``␀value␀``), see :func:`bigrams`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import scipy.sparse as sp

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_PAD = b"\x00"


def column_kind(column: str) -> str:
    """``bloom`` for ``bf_*``, ``minhash`` for ``mh_*``; ``ValueError`` otherwise."""
    if column.startswith("bf_"):
        return "bloom"
    if column.startswith("mh_"):
        return "minhash"
    raise ValueError(f"{column} is neither a Bloom filter nor a MinHash column")


def byte_matrix(
    array: pa.Array | pa.ChunkedArray,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """``(rows, width)`` bytes of a fixed-size binary column and its validity mask
    (zero rows where null)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    width = array.type.byte_width
    n = len(array)
    valid = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    data = array.buffers()[1]
    if data is None or n == 0:
        return np.zeros((n, width), dtype=np.uint8), valid
    flat = np.frombuffer(data, dtype=np.uint8)[array.offset * width : (array.offset + n) * width]
    rows = flat.reshape(n, width).copy()
    rows[~valid] = 0
    return rows, valid


def feature_matrix(kind: str, rows: npt.NDArray[np.uint8]) -> sp.csr_matrix:
    """Binary ``(len(rows), dim)`` CSR matrix of the rows' feature sets (float32)."""
    n, width = rows.shape
    if kind == "bloom":
        bits = np.unpackbits(rows, axis=1, bitorder="little").astype(np.float32)
        return sp.csr_matrix(bits)
    if kind == "minhash":
        cols = (np.arange(width, dtype=np.int64)[None, :] * 256 + rows.astype(np.int64)).ravel()
        indptr = np.arange(0, n * width + 1, width, dtype=np.int64)
        data = np.ones(n * width, dtype=np.float32)
        return sp.csr_matrix((data, cols, indptr), shape=(n, width * 256))
    raise ValueError(f"unknown encoding kind {kind!r}")


@dataclass(frozen=True)
class EncodedColumn:
    """One encoded column of a project, its identical encodings merged."""

    name: str
    kind: str
    #: Per record: index of its distinct encoding, -1 where the column is null.
    record_encoding: IntArray
    #: Per distinct encoding: how many records carry it.
    counts: IntArray
    #: Per distinct encoding: its feature set (binary CSR, float32).
    features: sp.csr_matrix

    @property
    def distinct(self) -> int:
        """Number of distinct encodings."""
        return len(self.counts)

    @property
    def present(self) -> int:
        """Number of records carrying the column."""
        return int((self.record_encoding >= 0).sum())

    @property
    def sizes(self) -> FloatArray:
        """Features per distinct encoding (a Bloom filter's bit count)."""
        return np.asarray(self.features.sum(axis=1), dtype=np.float64).ravel()

    @classmethod
    def of(cls, name: str, array: pa.Array | pa.ChunkedArray) -> EncodedColumn:
        """Merge the identical encodings of ``array`` (column ``name``)."""
        kind = column_kind(name)
        rows, valid = byte_matrix(array)
        record = np.full(len(rows), -1, dtype=np.int64)
        if valid.any():
            unique, inverse, counts = np.unique(
                rows[valid], axis=0, return_inverse=True, return_counts=True
            )
        else:
            unique = np.zeros((0, rows.shape[1]), dtype=np.uint8)
            inverse = np.zeros(0, dtype=np.int64)
            counts = np.zeros(0, dtype=np.int64)
        record[valid] = inverse.ravel()
        return cls(name, kind, record, counts.astype(np.int64), feature_matrix(kind, unique))


def encoded_columns(table: pa.Table) -> list[EncodedColumn]:
    """Every ``bf_*`` and ``mh_*`` column of a token table."""
    return [
        EncodedColumn.of(name, table.column(name))
        for name in table.column_names
        if name.startswith(("bf_", "mh_"))
        and pa.types.is_fixed_size_binary(table.schema.field(name).type)
    ]


def simulated_features(kind: str, arrays: Sequence[pa.Array]) -> list[sp.csr_matrix]:
    """Feature matrices of the attacker's own-key encodings (one per key)."""
    return [feature_matrix(kind, byte_matrix(a)[0]) for a in arrays]


def bigrams(value: str) -> set[bytes]:
    """The byte bigrams of ``␀value␀`` (UTF-8), as the encoders cut them."""
    data = _PAD + value.encode("utf-8") + _PAD
    return {data[i : i + 2] for i in range(len(data) - 1)}


@dataclass(frozen=True)
class BigramIndex:
    """The bigrams of a list of values: a ``(values, bigrams)`` binary incidence matrix."""

    grams: tuple[bytes, ...]
    incidence: sp.csr_matrix

    @classmethod
    def of(cls, values: Sequence[str]) -> BigramIndex:
        ids: dict[bytes, int] = {}
        indptr = [0]
        indices: list[int] = []
        for value in values:
            for gram in sorted(bigrams(value)):
                indices.append(ids.setdefault(gram, len(ids)))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        matrix = sp.csr_matrix((data, indices, indptr), shape=(len(values), len(ids)))
        return cls(tuple(ids), matrix)
