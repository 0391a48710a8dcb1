"""Candidate pairs: hash joins on match-key and blocking-key tokens, with capped blocks.

For one agency pair and one key column, a *block* is the set of records on each side that
share a token. Every block contributes its cartesian product of pairs, unless it is larger
than ``max_block`` on either side: then it contributes nothing and is reported (a shared
placeholder such as "everyone born 1900-01-01" must not explode into millions of pairs, and
must not disappear silently either). A second guard, the pair budget ``max_candidates``,
skips the largest remaining blocks when the sum would still exceed it.

Everything is vectorised: blocks are found by merging the per-agency sorted token indexes
(:class:`hub.linkage.tokens.TokenColumn`), products are expanded with ``np.repeat`` and
offsets, and the union over key columns is one sort of the codes ``left * n_right + right``
(:func:`sorted_unique`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from hub.linkage.tokens import AgencyTokens, TokenColumn, run_starts, stable_argsort


@dataclass(frozen=True, slots=True)
class CappedKey:
    """Blocks of one key column skipped for one agency pair."""

    key: str
    reason: str  # "max_block" or "pair_budget"
    blocks: int
    largest_left: int
    largest_right: int
    pairs_skipped: int

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "reason": self.reason,
            "blocks": self.blocks,
            "largest_block": [self.largest_left, self.largest_right],
            "pairs_skipped": self.pairs_skipped,
        }


@dataclass(slots=True)
class Candidates:
    """Candidate pairs of one agency pair, as row indexes into each side's table."""

    left: str
    right: str
    left_rows: np.ndarray
    right_rows: np.ndarray
    raw_pairs: int = 0  # pairs before the union over key columns
    capped: list[CappedKey] = field(default_factory=list)
    #: Key column → (left rows, right rows) holding a token of a skipped block: the only
    #: records that can share a token of that column without being a candidate pair.
    skipped_rows: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.left_rows)


@dataclass(frozen=True, slots=True)
class _Blocks:
    """The blocks one key column shares between two agencies (positions in each side's
    sorted order, sizes)."""

    key: str
    start_left: np.ndarray
    size_left: np.ndarray
    start_right: np.ndarray
    size_right: np.ndarray


def concat_ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, sizes)])`` without a loop."""
    sizes = sizes.astype(np.int64, copy=False)
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(sizes)
    shift = np.repeat(starts.astype(np.int64) - (ends - sizes), sizes)
    return shift + np.arange(total, dtype=np.int64)


def sorted_unique(
    values: np.ndarray,
    *,
    return_index: bool = False,
    return_inverse: bool = False,
    overwrite: bool = False,
):
    """What ``np.unique(values, return_index=..., return_inverse=...)`` returns for a 1-D
    array: the sorted distinct values, then (if asked) the position of each one's first
    occurrence and, for every element, the index of its value among the distinct ones.

    A sort and a neighbour comparison. NumPy 2.4's ``np.unique`` is measured 40–90× slower
    on int64 arrays of millions (its hash-based path), and even with ``return_index`` 10×
    slower, which made it the largest single cost of candidate generation at scale.
    ``overwrite=True`` lets a plain call sort ``values`` in place (no copy of a large
    temporary).
    """
    values = np.asarray(values).ravel()
    n = len(values)
    if return_index or return_inverse:
        order = stable_argsort(values)  # stable: the first occurrence wins
        ordered = values[order]
    elif overwrite:
        values.sort()
        ordered = values
    else:
        ordered = np.sort(values)
    first = run_starts(ordered)
    unique = ordered[first]
    if not (return_index or return_inverse):
        return unique
    out: list[np.ndarray] = [unique]
    if return_index:
        out.append(order[first])
    if return_inverse:
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.cumsum(first) - 1
        out.append(inverse)
    return tuple(out)


def _shared_blocks(key: str, left: TokenColumn, right: TokenColumn) -> _Blocks:
    """Merge the two sorted token indexes of one column: the blocks present on both sides."""
    left_hi, right_hi = left.group_hi, right.group_hi
    if len(left_hi) == 0 or len(right_hi) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Blocks(key, empty, empty, empty, empty)
    pos = np.searchsorted(right_hi, left_hi)
    pos_clipped = np.minimum(pos, len(right_hi) - 1)
    shared = right_hi[pos_clipped] == left_hi
    li = np.flatnonzero(shared)
    ri = pos_clipped[shared]
    # Sizes in 64 bits: their products count pairs.
    return _Blocks(
        key,
        left.group_bounds[li].astype(np.int64),
        (left.group_bounds[li + 1] - left.group_bounds[li]).astype(np.int64),
        right.group_bounds[ri].astype(np.int64),
        (right.group_bounds[ri + 1] - right.group_bounds[ri]).astype(np.int64),
    )


def _expand(blocks: _Blocks, keep: np.ndarray, left: TokenColumn, right: TokenColumn):
    """Cartesian product of the kept blocks → (left rows, right rows), exact on 128 bits."""
    start_l, size_l = blocks.start_left[keep], blocks.size_left[keep]
    start_r, size_r = blocks.start_right[keep], blocks.size_right[keep]
    # Every left entry of a block, then each repeated once per right entry of its block.
    left_pos = concat_ranges(start_l, size_l)
    reps = np.repeat(size_r, size_l)
    right_pos = concat_ranges(np.repeat(start_r, size_l), reps)
    left_pos = np.repeat(left_pos, reps)
    left_flat = left.order[left_pos]
    right_flat = right.order[right_pos]
    # Blocks were formed on the first 64 bits; the second word makes the join exact.
    same = left.lo[left_flat] == right.lo[right_flat]
    # Rows may be stored as int32; pair codes below need 64 bits.
    return (
        left.rows[left_flat[same]].astype(np.int64),
        right.rows[right_flat[same]].astype(np.int64),
    )


def candidate_pairs(
    left: AgencyTokens,
    right: AgencyTokens,
    keys: list[str],
    *,
    max_block: int,
    max_candidates: int,
    block_caps: Mapping[str, int] | None = None,
) -> Candidates:
    """All pairs of records of ``left`` × ``right`` that share a token in any key column,
    deduplicated, skipping (and reporting) blocks larger than ``max_block`` on either side
    (``block_caps[key]`` instead, for the keys it names) and, if still needed, the largest
    blocks beyond the pair budget ``max_candidates``."""
    result = Candidates(left.name, right.name, np.zeros(0, np.int64), np.zeros(0, np.int64))
    all_blocks = [_shared_blocks(k, left.keys[k], right.keys[k]) for k in keys]
    keeps = []
    for blocks in all_blocks:
        cap = (block_caps or {}).get(blocks.key, max_block)
        over = (blocks.size_left > cap) | (blocks.size_right > cap)
        keeps.append(~over)
        if over.any():
            result.capped.append(_capped(blocks, over, "max_block"))
    sizes = np.concatenate(
        [(b.size_left * b.size_right)[k] for b, k in zip(all_blocks, keeps, strict=True)]
    )
    if sizes.sum() > max_candidates:
        keeps = _apply_budget(all_blocks, keeps, sizes, max_candidates, result)
    for blocks, keep in zip(all_blocks, keeps, strict=True):
        if not keep.all():
            result.skipped_rows[blocks.key] = _rows_in(blocks, ~keep, left, right)
    codes = []
    n_right = right.size
    for blocks, keep in zip(all_blocks, keeps, strict=True):
        if not keep.any():
            continue
        lr, rr = _expand(blocks, keep, left.keys[blocks.key], right.keys[blocks.key])
        result.raw_pairs += len(lr)
        codes.append(lr * n_right + rr)
    if codes:
        unique = sorted_unique(np.concatenate(codes), overwrite=True)
        result.left_rows = unique // max(n_right, 1)
        result.right_rows = unique % max(n_right, 1)
    return result


def _rows_in(blocks: _Blocks, mask: np.ndarray, left: AgencyTokens, right: AgencyTokens):
    """Flags of the rows of each side that hold a token of the masked blocks."""
    flags = []
    for side, start, size in (
        (left, blocks.start_left, blocks.size_left),
        (right, blocks.start_right, blocks.size_right),
    ):
        column = side.keys[blocks.key]
        flag = np.zeros(side.size, dtype=bool)
        flag[column.rows[column.order[concat_ranges(start[mask], size[mask])]]] = True
        flags.append(flag)
    return flags[0], flags[1]


def _capped(blocks: _Blocks, mask: np.ndarray, reason: str) -> CappedKey:
    return CappedKey(
        key=blocks.key,
        reason=reason,
        blocks=int(mask.sum()),
        largest_left=int(blocks.size_left[mask].max()),
        largest_right=int(blocks.size_right[mask].max()),
        pairs_skipped=int((blocks.size_left[mask] * blocks.size_right[mask]).sum()),
    )


def _apply_budget(
    all_blocks: list[_Blocks],
    keeps: list[np.ndarray],
    sizes: np.ndarray,
    budget: int,
    result: Candidates,
) -> list[np.ndarray]:
    """Skip the largest kept blocks (over all columns) until the raw pair count fits."""
    order = np.argsort(-sizes, kind="stable")
    # Drop blocks from the largest down while the remaining total exceeds the budget.
    remaining = sizes.sum() - np.cumsum(sizes[order])
    n_drop = int(np.searchsorted(-remaining, -budget, side="left")) + 1
    n_drop = min(n_drop, len(order))
    dropped = np.zeros(len(sizes), dtype=bool)
    dropped[order[:n_drop]] = True
    new_keeps = []
    offset = 0
    for blocks, keep in zip(all_blocks, keeps, strict=True):
        kept_idx = np.flatnonzero(keep)
        drop_here = dropped[offset : offset + len(kept_idx)]
        offset += len(kept_idx)
        if drop_here.any():
            mask = np.zeros(len(keep), dtype=bool)
            mask[kept_idx[drop_here]] = True
            result.capped.append(_capped(blocks, mask, "pair_budget"))
            keep = keep & ~mask
        new_keeps.append(keep)
    return new_keeps
