"""The multi-level EM recovers a planted Fellegi–Sunter model."""

from __future__ import annotations

import numpy as np
import pytest

from hub.linkage.compare import FeatureSpec
from hub.linkage.em import (
    PairSample,
    aggregate_patterns,
    fit_em,
    initial_posterior,
    pack_levels,
    probability,
)

# Three features: a 3-level key (missing, disagree, agree), two 5-level similarities.
SPECS = [
    FeatureSpec("key", "match_key", ("missing", "disagree", "agree")),
    FeatureSpec("name", "bloom", ("missing", "a", "b", "c", "d")),
    FeatureSpec("addr", "bloom", ("missing", "a", "b", "c", "d")),
]
# Probabilities of the non-missing levels.
M = [np.array([0.1, 0.9]), np.array([0.02, 0.03, 0.15, 0.8]), np.array([0.3, 0.1, 0.2, 0.4])]
U = [np.array([0.97, 0.03]), np.array([0.7, 0.2, 0.07, 0.03]), np.array([0.9, 0.07, 0.02, 0.01])]
MISSING = [0.2, 0.05, 0.3]


def _simulate(rng, n, share):
    match = rng.random(n) < share
    levels = np.zeros((n, len(SPECS)), dtype=np.int8)
    for k in range(len(SPECS)):
        for is_match, probs in ((True, M[k]), (False, U[k])):
            rows = np.flatnonzero(match == is_match)
            levels[rows, k] = 1 + rng.choice(len(probs), size=len(rows), p=probs)
        levels[rng.random(n) < MISSING[k], k] = 0
    return levels, match


def test_em_recovers_planted_m_u_and_match_share():
    rng = np.random.default_rng(3)
    levels, match = _simulate(rng, 200_000, 0.2)
    patterns, counts, inverse = aggregate_patterns(pack_levels(levels, SPECS), SPECS)
    model, posterior = fit_em(patterns, counts, SPECS, initial_posterior(patterns, SPECS))
    assert model.converged
    assert model.prior == pytest.approx(0.2, abs=0.01)
    for k in range(len(SPECS)):
        assert np.isnan(model.m[k][0]) and np.isnan(model.u[k][0])  # missing is ignored
        np.testing.assert_allclose(model.m[k][1:], M[k], atol=0.02)
        np.testing.assert_allclose(model.u[k][1:], U[k], atol=0.02)
    # Posteriors classify the simulated pairs well.
    assert ((posterior[inverse] >= 0.5) == match).mean() > 0.97


def test_em_with_non_candidate_sample_recovers_all_pairs_model():
    """Candidates = pairs agreeing on the key; the rest are known only through a weighted
    uniform sample, as in the engine. The fit is the model of all pairs."""
    rng = np.random.default_rng(5)
    levels, _ = _simulate(rng, 400_000, 0.02)
    is_candidate = levels[:, 0] == 2
    cand = levels[is_candidate]
    rest = levels[~is_candidate]
    drawn = rest[rng.integers(0, len(rest), 40_000)]
    patterns, counts, _ = aggregate_patterns(pack_levels(cand, SPECS), SPECS)
    s_patterns, s_counts, _ = aggregate_patterns(pack_levels(drawn, SPECS), SPECS)
    sample = PairSample(s_patterns, s_counts * len(rest) / len(drawn))
    model, _ = fit_em(
        patterns, counts, SPECS, initial_posterior(patterns, SPECS), sample=sample
    )
    assert model.prior_scope == "all pairs"
    assert model.prior == pytest.approx(0.02, rel=0.1)
    for k in (1, 2):
        np.testing.assert_allclose(model.m[k][1:], M[k], atol=0.03)
        np.testing.assert_allclose(model.u[k][1:], U[k], atol=0.01)


def test_em_with_sample_at_ten_million_a_side_still_finds_the_matches():
    """At 10M × 10M the sample stands for 10^14 pairs and matches are 10^-7 of them (here
    10^12 and 2·10^-8): the sampled pairs must start as non-matches exactly, or their
    pseudo-matches (10^-6 each: fifty times the true matches) teach ``m`` from random pairs
    and the fit never recovers (the 10M bench once linked nothing)."""
    rng = np.random.default_rng(11)
    n_match, n_candidate_non, all_pairs = 20_000, 200_000, 10**12
    levels = np.zeros((n_match + n_candidate_non, len(SPECS)), dtype=np.int8)
    match = np.arange(len(levels)) < n_match
    for k in (1, 2):
        for is_match, probs in ((True, M[k]), (False, U[k])):
            rows = np.flatnonzero(match == is_match)
            levels[rows, k] = 1 + rng.choice(len(probs), size=len(rows), p=probs)
    levels[:, 0] = 2  # every candidate agrees on the key
    drawn = np.zeros((40_000, len(SPECS)), dtype=np.int8)
    drawn[:, 0] = 1
    for k in (1, 2):
        drawn[:, k] = 1 + rng.choice(len(U[k]), size=len(drawn), p=U[k])
    patterns, counts, inverse = aggregate_patterns(pack_levels(levels, SPECS), SPECS)
    s_patterns, s_counts, _ = aggregate_patterns(pack_levels(drawn, SPECS), SPECS)
    rest = all_pairs - len(levels)
    sample = PairSample(s_patterns, s_counts * rest / len(drawn))
    model, posterior = fit_em(
        patterns, counts, SPECS, initial_posterior(patterns, SPECS), sample=sample
    )
    assert model.prior == pytest.approx(n_match / all_pairs, rel=0.2)
    np.testing.assert_allclose(model.m[1][1:], M[1], atol=0.03)
    assert model.m[0][2] > 0.99  # the matches agree on the key; random pairs do not
    assert ((posterior[inverse] >= 0.5) == match).mean() > 0.95


def test_weights_sum_level_weights_and_ignore_missing():
    rng = np.random.default_rng(1)
    levels, _ = _simulate(rng, 20_000, 0.3)
    patterns, counts, _ = aggregate_patterns(pack_levels(levels, SPECS), SPECS)
    model, _ = fit_em(patterns, counts, SPECS, initial_posterior(patterns, SPECS))
    w = model.level_weights()
    row = np.array([[0, 4, 1]], dtype=np.int8)
    expected = model.prior_weight + w[1][4] + w[2][1]
    assert model.match_weight(row)[0] == pytest.approx(expected)
    assert w[0][0] == 0.0
    assert probability(np.array([0.0]))[0] == pytest.approx(0.5)


def test_pack_and_aggregate_round_trip():
    rng = np.random.default_rng(2)
    levels, _ = _simulate(rng, 5_000, 0.5)
    patterns, counts, inverse = aggregate_patterns(pack_levels(levels, SPECS), SPECS)
    np.testing.assert_array_equal(patterns[inverse], levels)
    assert counts.sum() == len(levels)
    assert len(np.unique(patterns, axis=0)) == len(patterns)


def test_em_on_no_pairs_does_not_fail():
    empty = np.zeros((0, len(SPECS)), dtype=np.int8)
    model, posterior = fit_em(empty, np.zeros(0), SPECS, np.zeros(0))
    assert len(posterior) == 0
    assert np.isfinite(model.prior_weight)


def test_tied_levels_weigh_as_one_level():
    """Levels tied together (``fit_em(tied=...)``) keep their own ``u`` but share one
    ``m/u``: each weighs the group's total ``m`` over its total ``u``."""
    rng = np.random.default_rng(4)
    levels, _ = _simulate(rng, 100_000, 0.2)
    patterns, counts, _ = aggregate_patterns(pack_levels(levels, SPECS), SPECS)
    start = initial_posterior(patterns, SPECS)
    group = np.array([False, False, True, True])  # the name's two top levels
    free, _ = fit_em(patterns, counts, SPECS, start)
    tied, _ = fit_em(patterns, counts, SPECS, start, tied={1: group})
    w_free, w_tied = free.level_weights()[1], tied.level_weights()[1]
    pooled = np.log2(M[1][2:].sum() / U[1][2:].sum())
    assert w_tied[3] == pytest.approx(w_tied[4])
    assert w_tied[4] == pytest.approx(pooled, abs=0.1)
    assert abs(w_free[4] - w_free[3]) > 3  # apart, they weigh differently
    assert tied.m[1][1:].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(tied.m[1][3:].sum(), M[1][2:].sum(), atol=0.02)
    # The other features are fitted as before.
    np.testing.assert_allclose(tied.m[2][1:], M[2], atol=0.02)

