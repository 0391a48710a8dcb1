"""Comparison vectors: one small integer level per feature and candidate pair.

Features, in order (:func:`feature_specs`):

- one per key column (match keys, and blocking keys when configured): level 0 *missing*
  (either record emitted no token for the rule), 1 *disagree* (both emitted, no token in
  common), 2 *agree* (a token in common);
- one per Bloom field: level 0 *missing* (null on either side), then one level per Dice
  band, from below the lowest threshold (1) up to at-or-above the highest.

Level 0 always means missing: the EM leaves it out of the likelihood (a missing value is
evidence of nothing), so missing is never confused with disagreement.

Rules emit several tokens per record (day/month swaps, nickname variants); agreement is
"the two token sets intersect": pairs with one token a side (most) are compared directly,
the others by flattening every (k, l) token combination into one vectorised pass, so the
work is Σ|A||B| gathers with no per-pair Python. Dice is :func:`protocol.bloom.dice_many`'s,
computed from the popcount of the common bits of gathered filter rows and each record's
own popcount, counted once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hub.linkage.candidates import concat_ranges
from hub.linkage.config import BLOOM_PREFIX, MATCH_KEY_PREFIX, LinkageConfig
from hub.linkage.tokens import AgencyTokens, BloomColumn, TokenColumn
from protocol.salts import SALT_SUFFIXES

KEY_LEVELS = ("missing", "disagree", "agree")
#: Bloom columns compared only across fields: the first name under the last-name key
#: (``protocol.bloom``), compared with the other side's last name to see first/last swaps.
FIRST_AS_LAST = "bf_first_name_as_last"
LAST_NAME = "bf_last_name"
#: Cross features: name → (left column, right column). ``swap:first_last`` is the Dice of
#: the left first name and the right last name; ``swap:last_first`` the other way round.
SWAP_FEATURES = {
    "swap:first_last": (FIRST_AS_LAST, LAST_NAME),
    "swap:last_first": (LAST_NAME, FIRST_AS_LAST),
}


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One comparison feature: its column and the label of each level (level 0 missing).

    A ``bloom_cross`` feature compares two different Bloom columns (``SWAP_FEATURES``).
    """

    name: str
    kind: str  # "match_key", "blocking_key", "bloom" or "bloom_cross"
    levels: tuple[str, ...]

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def columns(self) -> tuple[str, str]:
        """The Bloom columns compared: (left side's, right side's)."""
        return SWAP_FEATURES.get(self.name, (self.name, self.name))


def bloom_level_labels(dice_levels: tuple[float, ...]) -> tuple[str, ...]:
    """Labels of the Dice bands, lowest first: ``dice<0.5``, ``dice≥0.5``, … ``dice≥0.95``."""
    ascending = sorted(dice_levels)
    return ("missing", f"dice<{ascending[0]:g}", *(f"dice≥{t:g}" for t in ascending))


def feature_specs(keys: list[str], blooms: list[str], config: LinkageConfig) -> list[FeatureSpec]:
    """The features compared for ``keys`` and ``blooms`` under ``config``."""
    specs = []
    for key in keys:
        if key.startswith(MATCH_KEY_PREFIX):
            specs.append(FeatureSpec(key, "match_key", KEY_LEVELS))
        elif config.compare_blocking_keys or config.features == "fields":
            specs.append(FeatureSpec(key, "blocking_key", KEY_LEVELS))
    labels = bloom_level_labels(config.dice_levels)
    specs.extend(
        FeatureSpec(b, "bloom", labels)
        for b in blooms
        if b.startswith(BLOOM_PREFIX) and b != FIRST_AS_LAST and not b.endswith(SALT_SUFFIXES)
    )
    if FIRST_AS_LAST in blooms and LAST_NAME in blooms:
        specs.extend(FeatureSpec(name, "bloom_cross", labels) for name in SWAP_FEATURES)
    return specs


def key_levels(
    left: TokenColumn, right: TokenColumn, left_rows: np.ndarray, right_rows: np.ndarray
) -> np.ndarray:
    """Level per pair for one key column: 0 missing, 1 disagree, 2 agree."""
    # Token counts from the offsets (not kept per row: memory at a million records).
    start_l, start_r = left.offsets[left_rows], right.offsets[right_rows]
    len_l = left.offsets[left_rows + 1] - start_l
    len_r = right.offsets[right_rows + 1] - start_r
    both = left.emitted[left_rows] & right.emitted[right_rows]
    levels = both.view(np.int8).copy()  # 1 = disagree until a common token is found
    # Most records emit one token per rule: compare those pairs directly, the high words
    # first and the low words only where those agree (a fraction of the pairs).
    single = np.flatnonzero((len_l == 1) & (len_r == 1))
    pos_l, pos_r = start_l[single], start_r[single]
    same_hi = left.hi[pos_l] == right.hi[pos_r]
    single, pos_l, pos_r = single[same_hi], pos_l[same_hi], pos_r[same_hi]
    levels[single[left.lo[pos_l] == right.lo[pos_r]]] = 2
    # The rest: every (k, l) token combination of each pair, flattened into one pass.
    multi = np.flatnonzero(both & ((len_l > 1) | (len_r > 1)))
    if len(multi):
        n_l, n_r = len_l[multi].astype(np.int64), len_r[multi].astype(np.int64)
        combos = n_l * n_r
        owner = np.repeat(multi, combos)
        rank = concat_ranges(np.zeros(len(multi), dtype=np.int64), combos)
        width = np.repeat(n_r, combos)
        k, l_ = rank // width, rank % width
        pos_l = np.repeat(start_l[multi], combos) + k
        pos_r = np.repeat(start_r[multi], combos) + l_
        hit = (left.hi[pos_l] == right.hi[pos_r]) & (left.lo[pos_l] == right.lo[pos_r])
        levels[owner[hit]] = 2
    return levels


def _non_candidate_levels(left, right, left_rows, right_rows, skipped) -> np.ndarray:
    levels = np.where(
        ~left.emitted[left_rows] | ~right.emitted[right_rows], 0, 1
    ).astype(np.int8)
    if skipped is not None:
        both = np.flatnonzero(skipped[0][left_rows] & skipped[1][right_rows])
        if len(both):
            levels[both] = key_levels(left, right, left_rows[both], right_rows[both])
    return levels


def gather_filters(column: BloomColumn, rows: np.ndarray) -> np.ndarray:
    """The filters of ``rows`` as an ``(n, bytes)`` array (uint64 words when the width
    allows). Each row is moved as one opaque item: fancy indexing a uint8 matrix copies
    byte by byte and is several times slower."""
    bits = column.bits
    width = bits.shape[1]
    if bits.flags.c_contiguous and len(bits):
        flat = bits.view(np.dtype((np.void, width))).reshape(-1)
        out = flat[rows].view(np.uint8).reshape(len(rows), width)
    else:
        out = np.ascontiguousarray(bits[rows])
    return out.view(np.uint64) if width % 8 == 0 else out


def dice_scores(
    left: BloomColumn,
    right: BloomColumn,
    left_rows: np.ndarray,
    right_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Dice similarity per pair and whether both filters are present.

    Equal to :func:`protocol.bloom.dice_many` on the gathered rows, but only the common
    bits are counted per pair: each filter's own popcount is counted once per record
    (``BloomColumn.ones``).
    """
    both = left.valid[left_rows] & right.valid[right_rows]
    scores = np.zeros(len(left_rows), dtype=np.float64)
    idx = np.flatnonzero(both)
    if len(idx):
        lr, rr = left_rows[idx], right_rows[idx]
        a, b = gather_filters(left, lr), gather_filters(right, rr)
        common = np.bitwise_count(np.bitwise_and(a, b, out=a)).sum(axis=1, dtype=np.int32)
        total = left.ones[lr] + right.ones[rr]
        part = np.zeros(len(idx), dtype=np.float64)
        np.divide(2.0 * common, total, out=part, where=total > 0)
        scores[idx] = part
    return scores, both


def salted_scores(
    left: AgencyTokens,
    right: AgencyTokens,
    columns: tuple[str, str],
    left_rows: np.ndarray,
    right_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Dice per pair of one field, the best over the salts both records were encoded under.

    A field's filters are salted by the record's date of birth (``bf_<field>``) and, for
    names, also by its household (``bf_<field>__home``, ``protocol.salted_bloom``). Two
    records' filters under one salt compare only when they share that salt; under
    different salts they score like unrelated values (about 0.2), so the best of the
    two salts is the field's similarity. Present: present under either salt.
    """
    column_l, column_r = columns
    scores, present = dice_scores(left.blooms[column_l], right.blooms[column_r],
                                  left_rows, right_rows)
    for suffix in SALT_SUFFIXES:
        alt_l, alt_r = column_l + suffix, column_r + suffix
        if alt_l in left.blooms and alt_r in right.blooms:
            other, other_present = dice_scores(left.blooms[alt_l], right.blooms[alt_r],
                                               left_rows, right_rows)
            np.maximum(scores, other, out=scores)
            present |= other_present
    return scores, present


def bloom_levels(scores: np.ndarray, present: np.ndarray, dice_levels: tuple[float, ...]):
    """Dice scores → levels: 0 missing, 1 below the lowest threshold, … up to the highest."""
    thresholds = np.asarray(sorted(dice_levels))
    levels = (1 + np.searchsorted(thresholds, scores, side="right")).astype(np.int8)
    levels[~present] = 0
    return levels


def compare_pairs(
    left: AgencyTokens,
    right: AgencyTokens,
    left_rows: np.ndarray,
    right_rows: np.ndarray,
    specs: list[FeatureSpec],
    config: LinkageConfig,
    non_candidates: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> np.ndarray:
    """Comparison levels ``(n_pairs, n_features)`` int8, computed chunk by chunk so the
    gathered Bloom rows never exceed ``config.chunk_pairs``.

    ``non_candidates``, when given, says the pairs are known *not* to be candidates (the
    random sample): they share no token outside skipped blocks, so a key column is
    "disagree" (or missing) without looking, except for pairs whose two records both hold
    a token of a skipped block of that column (``Candidates.skipped_rows``).
    """
    n = len(left_rows)
    levels = np.zeros((n, len(specs)), dtype=np.int8)
    for start in range(0, n, config.chunk_pairs):
        stop = min(n, start + config.chunk_pairs)
        lr, rr = left_rows[start:stop], right_rows[start:stop]
        for f, spec in enumerate(specs):
            if spec.kind in ("bloom", "bloom_cross"):
                s, present = salted_scores(left, right, spec.columns, lr, rr)
                levels[start:stop, f] = bloom_levels(s, present, config.dice_levels)
            elif non_candidates is None:
                levels[start:stop, f] = key_levels(
                    left.keys[spec.name], right.keys[spec.name], lr, rr
                )
            else:
                levels[start:stop, f] = _non_candidate_levels(
                    left.keys[spec.name], right.keys[spec.name], lr, rr,
                    non_candidates.get(spec.name),
                )
    return levels
