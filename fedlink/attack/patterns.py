"""Iterative q-gram pattern mining: learn which features each bigram sets, re-identify.

In the spirit of Christen, Ranbaduge, Vatsalan & Schnell (2018, "Precise and fast
cryptanalysis for Bloom filter based privacy-preserving record linkage", IEEE TKDE) and
Christen, Vidanage, Ranbaduge & Schnell (2018, PAKDD): starting from seed pairs
(encoding ↔ value, :mod:`fedlink.attack.graph`), every round

1. **learns** per bigram the features it sets: features present in most encodings whose
   assigned value holds the bigram and clearly rarer in those whose value does not
   (with XOR-folding a bigram's bit is hidden when another bigram of the value hits its
   partner position, so "most", not "all"); a bigram seen in too few assigned values
   gets the features of its encodings that the value's other, already learned, bigrams
   do not explain;
2. **re-identifies** every distinct encoding against every public value whose bigrams
   are all learned: a value explains an encoding when the encoding's features lie in the
   union of the value's bigram features (few *missing* features) and the encoding's
   feature count is what the attacker's own-key simulation expects for that value;
   the best value is accepted only if it is clearly better than the runner-up;
3. repeats with the new assignment (wrong seeds are dropped or corrected on the way)
   until nothing changes.

Everything is matrix algebra over the feature representation of
:mod:`fedlink.attack.features`, so the same code attacks Bloom filters and MinHash
signatures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fedlink.attack.features import BigramIndex, EncodedColumn, FloatArray, IntArray

ROUNDS = 12
#: A learned bigram feature: the log-likelihood ratio of "the bigram sets it" (the
#: feature shows in a share _SHOWS of the encodings whose value holds the bigram) against
#: "it shows at its rate among the other encodings" is at least _LLR.
_SHOWS = 0.85
_LLR = 4.0
#: Assigned values a bigram needs before its features are learned by frequency.
_MIN_SUPPORT = 3
#: Largest accepted score: _ACCEPT features per bigram (of the value) + _MISS_FLOOR.
_ACCEPT = 2.5
_MISS_FLOOR = 2.0
#: Weight of the size deviation (in simulated standard deviations).
_SIZE_WEIGHT = 1.5
#: The best value must beat the runner-up by this many features per bigram.
_MARGIN = 0.5
#: Largest size deviation accepted, in simulated standard deviations.
_SIZE_Z = 5.0
#: Candidate values scored per block (bounds the dense matrices).
_BLOCK = 1024
#: Unknown bigrams a value may still have and be scored.
_MAX_UNKNOWN = 2


@dataclass(frozen=True)
class Learned:
    """Per bigram: whether its features are known, and which they are (Q × D binary)."""

    known: np.ndarray
    features: sp.csr_matrix


def learn(
    column: EncodedColumn,
    index: BigramIndex,
    assignment: IntArray,
    max_features: int | None = None,
) -> Learned:
    """Learn bigram features from the encodings currently assigned a value."""
    q = index.incidence.shape[1]
    dim = column.features.shape[1]
    assigned = np.flatnonzero(assignment >= 0)
    if assigned.size == 0:
        return Learned(np.zeros(q, dtype=bool), sp.csr_matrix((q, dim), dtype=np.float32))
    x = column.features[assigned]
    b = index.incidence[assignment[assigned]]
    n_in = np.asarray(b.sum(axis=0)).ravel()
    cnt_in = (b.T @ x).toarray()
    cnt_all = np.asarray(x.sum(axis=0)).ravel()
    share_out = (cnt_all[None, :] - cnt_in) / np.maximum(assigned.size - n_in, 1)[:, None]
    base = np.clip(share_out, 0.02, 0.6)
    llr = cnt_in * np.log(_SHOWS / base) + (n_in[:, None] - cnt_in) * np.log(
        (1 - _SHOWS) / (1 - base)
    )
    frequent = n_in >= _MIN_SUPPORT
    mask = (llr >= _LLR) & frequent[:, None]
    if max_features is not None and max_features < dim:
        # No bigram sets more than the construction allows: keep the strongest.
        cut = -np.partition(-llr, max_features - 1, axis=1)[:, max_features - 1]
        mask &= llr >= cut[:, None]
    known = frequent.copy()
    # Rare bigrams: the features of their encodings the other (known) bigrams leave out.
    learned = sp.csr_matrix(mask.astype(np.float32))
    rare = np.flatnonzero((n_in > 0) & ~frequent)
    if rare.size:
        explained = (b.multiply(frequent[None, :].astype(np.float32)) @ learned).toarray() > 0
        unknown = np.asarray(b.multiply((~frequent)[None, :].astype(np.float32)).sum(axis=1))
        lone = unknown.ravel() == 1  # exactly one unknown bigram in the value
        residual = x.toarray().astype(bool) & ~explained
        bt = b.tocsc()
        for gram in rare.tolist():
            rows = bt.indices[bt.indptr[gram] : bt.indptr[gram + 1]]
            rows = rows[lone[rows]]
            if rows.size:
                mask[gram] = residual[rows].all(axis=0)
                known[gram] = True
        learned = sp.csr_matrix(mask.astype(np.float32))
    return Learned(known, learned)


def _unknown_counts(index: BigramIndex, learned: Learned) -> IntArray:
    unknown = (~learned.known).astype(np.float32)
    counts: IntArray = np.rint(np.asarray(index.incidence @ unknown).ravel()).astype(np.int64)
    return counts


def _candidates(index: BigramIndex, learned: Learned) -> IntArray:
    """Values whose bigrams are all learned."""
    return np.flatnonzero(_unknown_counts(index, learned) == 0)


@dataclass(frozen=True)
class Scores:
    """Per distinct encoding: best value, its score, the runner-up's score, and whether
    the best one passed the absolute checks."""

    value: IntArray
    best: FloatArray
    second: FloatArray
    ok: np.ndarray


def _cancel_rate(
    column: EncodedColumn, index: BigramIndex, learned: Learned, assignment: IntArray
) -> float:
    """Median share of a value's learned features missing from its own encoding."""
    full = set(_candidates(index, learned).tolist())
    rows = [e for e in np.flatnonzero(assignment >= 0).tolist() if int(assignment[e]) in full]
    if len(rows) < 5:
        return 0.15
    union = (index.incidence[assignment[rows]] @ learned.features).toarray() > 0
    x = column.features[rows].toarray() > 0
    size = np.maximum(union.sum(axis=1), 1)
    return float(np.median((union & ~x).sum(axis=1) / size))


def score_values(
    column: EncodedColumn,
    index: BigramIndex,
    learned: Learned,
    size_mean: FloatArray,
    size_std: FloatArray,
    cancel_rate: float,
) -> Scores:
    """Score every distinct encoding against every value with at most one unknown bigram.

    Score = learned features of the value missing beyond the expected cancellations
    + |unexplained features - what the value's unknown bigram should explain|
    + _SIZE_WEIGHT x the size deviation in simulated standard deviations.
    """
    n = column.distinct
    unknown = _unknown_counts(index, learned)
    grams = np.asarray(index.incidence.sum(axis=1)).ravel()
    cands = np.flatnonzero((unknown <= _MAX_UNKNOWN) & (unknown < grams))
    value = np.full(n, -1, dtype=np.int64)
    best = np.full(n, np.inf)
    second = np.full(n, np.inf)
    ok = np.zeros(n, dtype=bool)
    if cands.size == 0 or n == 0:
        return Scores(value, best, second, ok)
    sizes = column.sizes
    per_gram = size_mean / np.maximum(grams, 1)
    x = column.features
    rows = np.arange(n)
    for lo in range(0, cands.size, _BLOCK):
        block = cands[lo : lo + _BLOCK]
        u = ((index.incidence[block] @ learned.features).toarray() > 0).astype(np.float32)
        inner = np.asarray(x @ u.T)  # (n, block)
        usize = u.sum(axis=1)[None, :]
        extra = np.maximum(usize - inner - cancel_rate * usize, 0.0)
        expected_miss = (unknown[block] * per_gram[block])[None, :]
        miss = sizes[:, None] - inner
        z = np.abs(sizes[:, None] - size_mean[block][None, :]) / size_std[block][None, :]
        score = extra + np.abs(miss - expected_miss) + _SIZE_WEIGHT * z
        order = np.argsort(score, axis=1)[:, :2]
        b1 = score[rows, order[:, 0]]
        b2 = score[rows, order[:, 1]] if block.size > 1 else np.full(n, np.inf)
        top = order[:, 0]
        ok1 = (z[rows, top] <= _SIZE_Z) & (b1 <= _ACCEPT * per_gram[block][top] + _MISS_FLOOR)
        better = b1 < best
        second = np.where(better, np.minimum(best, b2), np.minimum(second, b1))
        value = np.where(better, block[top], value)
        ok = np.where(better, ok1, ok)
        best = np.where(better, b1, best)
    return Scores(value, best, second, ok)


def reidentify(
    column: EncodedColumn,
    index: BigramIndex,
    learned: Learned,
    size_mean: FloatArray,
    size_std: FloatArray,
    cancel_rate: float = 0.15,
) -> IntArray:
    """Best explaining value per distinct encoding (-1 when none is clearly best)."""
    s = score_values(column, index, learned, size_mean, size_std, cancel_rate)
    grams = np.asarray(index.incidence.sum(axis=1)).ravel()
    per_gram = size_mean / np.maximum(grams, 1)
    margin = _MARGIN * per_gram[np.maximum(s.value, 0)]
    gap = np.full(s.best.shape, np.inf)
    np.subtract(s.second, s.best, out=gap, where=np.isfinite(s.second) & np.isfinite(s.best))
    accept = s.ok & (s.value >= 0) & (gap >= margin)
    return np.where(accept, s.value, -1)


def mine(
    column: EncodedColumn,
    index: BigramIndex,
    seeds: dict[int, int],
    size_mean: FloatArray,
    size_std: FloatArray,
    rounds: int = ROUNDS,
    max_features: int | None = None,
) -> tuple[IntArray, list[int]]:
    """Run the rounds from ``seeds``; the final value per distinct encoding (-1 = none)
    and the number of identified encodings after each round."""
    assignment = np.full(column.distinct, -1, dtype=np.int64)
    for enc, value in seeds.items():
        assignment[enc] = value
    confirmed = np.full(column.distinct, -1, dtype=np.int64)
    history: list[int] = []
    for _ in range(rounds):
        learned = learn(column, index, assignment, max_features)
        rate = _cancel_rate(column, index, learned, assignment)
        confirmed = reidentify(column, index, learned, size_mean, size_std, rate)
        history.append(int((confirmed >= 0).sum()))
        # An assignment no learned value can judge yet (its value still has unknown
        # bigrams) stands for learning until one can; it is not a result.
        judged = np.zeros(index.incidence.shape[0], dtype=bool)
        judged[_candidates(index, learned)] = True
        keep = (confirmed < 0) & (assignment >= 0) & ~judged[np.maximum(assignment, 0)]
        new = np.where(keep, assignment, confirmed)
        if np.array_equal(new, assignment):
            break
        assignment = new
    return confirmed, history
