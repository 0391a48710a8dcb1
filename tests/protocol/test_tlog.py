"""protocol.tlog against an independent reference (RFC 9162's recursive definitions written
out again here, with hashlib) for every tree size 1..N and every index, and forged proofs."""

from __future__ import annotations

import hashlib

import pytest

from protocol.tlog import (
    ProofError,
    consistency_proof,
    empty_root,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

N = 33


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _ref_mth(data: list[bytes]) -> bytes:
    """MTH over the leaves' *data*, straight from RFC 9162 §2.1.1."""
    n = len(data)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + data[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _h(b"\x01" + _ref_mth(data[:k]) + _ref_mth(data[k:]))


DATA = [f"leaf {i}".encode() for i in range(N)]
LEAVES = [leaf_hash(d) for d in DATA]


def test_leaf_and_node_prefixes() -> None:
    assert leaf_hash(b"x") == _h(b"\x00x")
    assert root([]) == empty_root() == _h(b"")
    assert root(LEAVES[:2]) == _h(b"\x01" + _h(b"\x00" + DATA[0]) + _h(b"\x00" + DATA[1]))


def test_root_matches_reference_for_every_size() -> None:
    for size in range(N + 1):
        assert root(LEAVES, size) == _ref_mth(DATA[:size])


def test_inclusion_every_size_every_index() -> None:
    for size in range(1, N + 1):
        tree_root = _ref_mth(DATA[:size])
        for index in range(size):
            proof = inclusion_proof(LEAVES, index, size)
            verify_inclusion(LEAVES[index], index, size, proof, tree_root)


def test_consistency_every_pair_of_sizes() -> None:
    for new in range(0, N + 1):
        new_root = _ref_mth(DATA[:new])
        for old in range(0, new + 1):
            proof = consistency_proof(LEAVES, old, new)
            verify_consistency(old, new, _ref_mth(DATA[:old]), new_root, proof)


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


@pytest.mark.parametrize(("size", "index"), [(7, 3), (8, 0), (13, 12), (33, 17)])
def test_forged_inclusion_proofs_refused(size: int, index: int) -> None:
    tree_root = root(LEAVES, size)
    proof = inclusion_proof(LEAVES, index, size)
    leaf = LEAVES[index]
    forgeries = {
        "flipped hash": (leaf, index, size, [_flip(proof[0]), *proof[1:]], tree_root),
        "flipped leaf": (_flip(leaf), index, size, proof, tree_root),
        "flipped root": (leaf, index, size, proof, _flip(tree_root)),
        "wrong index": (leaf, (index + 1) % size, size, proof, tree_root),
        # A size with the same path shape (7 vs 8) verifies against the same root: RFC 9162
        # binds the size to the root through the signed checkpoint, not through the proof.
        "wrong size": (leaf, index, size * 2, proof, tree_root),
        "truncated path": (leaf, index, size, proof[:-1], tree_root),
        "extended path": (leaf, index, size, [*proof, proof[0]], tree_root),
        "swapped order": (leaf, index, size, proof[::-1], tree_root),
        "index beyond size": (leaf, size, size, proof, tree_root),
        "short hash": (leaf, index, size, [proof[0][:31], *proof[1:]], tree_root),
    }
    for name, args in forgeries.items():
        with pytest.raises(ProofError) as caught:
            verify_inclusion(*args)
        assert caught.value.reason == "bad_inclusion_proof", name


@pytest.mark.parametrize(("old", "new"), [(3, 7), (4, 8), (6, 13), (1, 33), (16, 17)])
def test_forged_consistency_proofs_refused(old: int, new: int) -> None:
    old_root, new_root = root(LEAVES, old), root(LEAVES, new)
    proof = consistency_proof(LEAVES, old, new)
    forked = [*LEAVES[:old - 1], leaf_hash(b"rewritten"), *LEAVES[old:new]]
    forgeries = {
        "flipped hash": (old, new, old_root, new_root, [_flip(proof[0]), *proof[1:]]),
        "flipped old root": (old, new, _flip(old_root), new_root, proof),
        "flipped new root": (old, new, old_root, _flip(new_root), proof),
        "wrong old size": (old + 1, new, old_root, new_root, proof),
        "wrong new size": (old, new * 2, old_root, new_root, proof),
        "truncated path": (old, new, old_root, new_root, proof[:-1]),
        "swapped order": (old, new, old_root, new_root, proof[::-1]),
        "empty proof": (old, new, old_root, new_root, []),
        "rollback": (new, old, new_root, old_root, proof),
        "fork": (old, new, old_root, root(forked, new), consistency_proof(forked, old, new)),
    }
    for name, args in forgeries.items():
        if name == "swapped order" and len(proof) < 2:
            continue
        with pytest.raises(ProofError) as caught:
            verify_consistency(*args)
        assert caught.value.reason == "bad_consistency_proof", name


def test_same_size_different_roots_is_a_fork() -> None:
    other = [leaf_hash(b"other"), *LEAVES[1:5]]
    with pytest.raises(ProofError):
        verify_consistency(5, 5, root(LEAVES, 5), root(other, 5), [])
    verify_consistency(5, 5, root(LEAVES, 5), root(LEAVES, 5), [])


def test_out_of_range_requests_refused() -> None:
    with pytest.raises(ProofError):
        inclusion_proof(LEAVES, 5, 5)
    with pytest.raises(ProofError):
        consistency_proof(LEAVES, 6, 5)
    with pytest.raises(ProofError):
        root(LEAVES, N + 1)
