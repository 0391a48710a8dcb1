"""Merkle tree hashing, inclusion and consistency proofs, after RFC 9162 §2.1 (RFC 6962).

Pure code over SHA-256, no I/O. ``leaves`` are always the *leaf hashes* (``leaf_hash(d)``),
so a caller that already stores them (the hub stores each audit event's chain hash) never
re-reads the events to build a proof::

    leaf_hash(d)      = SHA-256(0x00 || d)
    node_hash(l, r)   = SHA-256(0x01 || l || r)
    MTH({})           = SHA-256()                        (the empty tree)
    MTH(D[n])         = node_hash(MTH(D[0:k]), MTH(D[k:n]))  k = largest power of 2 < n

Generation follows the recursive definitions PATH (§2.1.3.1) and PROOF/SUBPROOF
(§2.1.4.1); verification follows the iterative algorithms of §2.1.3.2 and §2.1.4.2, which
never rebuild the tree. Every verification failure raises :class:`ProofError` with a
stable ``reason`` (``bad_inclusion_proof`` / ``bad_consistency_proof``); callers never get a
``False`` they might forget to check.

The signed-note and checkpoint formats that carry a root hash are in
:mod:`protocol.tlog_note`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final

from protocol.errors import ProtocolError

HASH_SIZE: Final = 32
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"

__all__ = [
    "HASH_SIZE",
    "ProofError",
    "consistency_proof",
    "empty_root",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]


class ProofError(ProtocolError):
    """A Merkle proof does not verify (or its arguments are out of range)."""

    reason = "bad_proof"


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256 of 0x00 and the leaf's data."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256 of 0x01, the left and the right child."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def empty_root() -> bytes:
    """MTH of the empty tree: the hash of the empty string."""
    return hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 0:
        return empty_root()
    if n == 1:
        return leaves[lo]
    k = _split(n)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def root(leaves: Sequence[bytes], size: int | None = None) -> bytes:
    """The Merkle tree hash of the first ``size`` leaf hashes (all of them by default)."""
    size = len(leaves) if size is None else size
    if not 0 <= size <= len(leaves):
        raise ProofError(f"tree size {size} is outside 0..{len(leaves)}")
    return _mth(leaves, 0, size)


def _path(leaves: Sequence[bytes], index: int, lo: int, hi: int) -> list[bytes]:
    n = hi - lo
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*_path(leaves, index, lo, lo + k), _mth(leaves, lo + k, hi)]
    return [*_path(leaves, index - k, lo + k, hi), _mth(leaves, lo, lo + k)]


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """PATH(index, D[size]): the audit path of leaf ``index`` in the tree of ``size``."""
    size = len(leaves) if size is None else size
    if not 0 <= index < size <= len(leaves):
        raise ProofError(f"no leaf {index} in a tree of size {size}",
                         reason="bad_inclusion_proof")
    return _path(leaves, index, 0, size)


def _subproof(leaves: Sequence[bytes], m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if whole else [_mth(leaves, lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves, m, lo, lo + k, whole), _mth(leaves, lo + k, hi)]
    return [*_subproof(leaves, m - k, lo + k, hi, False), _mth(leaves, lo, lo + k)]


def consistency_proof(leaves: Sequence[bytes], old_size: int,
                      new_size: int | None = None) -> list[bytes]:
    """PROOF(old_size, D[new_size]); empty when ``old_size`` is 0 or equals ``new_size``
    (nothing to prove: every tree extends the empty one, and a tree extends itself)."""
    new_size = len(leaves) if new_size is None else new_size
    if not 0 <= old_size <= new_size <= len(leaves):
        raise ProofError(f"no consistency proof from size {old_size} to {new_size}",
                         reason="bad_consistency_proof")
    if old_size in (0, new_size):
        return []
    return _subproof(leaves, old_size, 0, new_size, True)


def _check_hashes(values: Sequence[bytes], reason: str) -> None:
    for value in values:
        if len(value) != HASH_SIZE:
            raise ProofError(f"a proof hash is {len(value)} bytes, not {HASH_SIZE}",
                             reason=reason)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     expected_root: bytes) -> None:
    """RFC 9162 §2.1.3.2: ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size``
    whose root is ``expected_root``; raise :class:`ProofError` otherwise."""
    reason = "bad_inclusion_proof"
    _check_hashes([leaf, expected_root, *proof], reason)
    if not 0 <= index < size:
        raise ProofError(f"no leaf {index} in a tree of size {size}", reason=reason)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep", reason=reason)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep", reason=reason)
    if r != expected_root:
        raise ProofError(f"leaf {index} is not in the tree of size {size} with this root",
                         reason=reason)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2: the tree of ``new_size`` with ``new_root`` extends the tree of
    ``old_size`` with ``old_root``; raise :class:`ProofError` otherwise."""
    reason = "bad_consistency_proof"
    _check_hashes([old_root, new_root, *proof], reason)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of size {new_size} cannot extend one of size {old_size}",
                         reason=reason)
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError(f"two different trees of size {new_size}", reason=reason)
        return
    if old_size == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty", reason=reason)
        return
    if not proof:
        raise ProofError("empty consistency proof", reason=reason)
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a subtree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long", reason=reason)
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError(f"the tree of size {new_size} does not extend the tree of size "
                         f"{old_size} with this root", reason=reason)
