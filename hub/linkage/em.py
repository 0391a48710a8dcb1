"""Fellegi–Sunter weights estimated without labels.

The model: a candidate pair is a match with prior probability λ; given its class, the
features are independent, feature ``k`` being at level ``l`` with probability ``m_k[l]``
(match) or ``u_k[l]`` (non-match). Level 0 (*missing*) is left out of the likelihood: a
missing value says nothing about the class, and treating it as disagreement would punish
records for what their agency does not collect. The match weight of a pair is
``log2(λ/(1-λ)) + Σ_k log2(m_k[l_k]/u_k[l_k])`` over its non-missing features, and its
posterior match probability is the logistic of that weight (in bits). Where the
independence is known to fail, a :class:`Conditional` replaces some features' ``u`` for
the pairs that meet it (the twin profile: ``hub.linkage.household``).

:func:`fit_em` runs EM over the *distinct* comparison patterns with their counts (a few
thousand rows whatever the number of pairs), as two small matrix products per iteration.
A Jeffreys pseudo-count of ½ per level keeps every weight finite on tiny inputs and is
negligible on real ones. :func:`fit_ecm` fits recordlinkage's ECM classifier on binarised
features instead; it is kept to compare against (see ``docs/linkage.md``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hub.linkage.compare import FeatureSpec

PSEUDO_COUNT = 0.5


@dataclass(frozen=True, slots=True)
class Conditional:
    """The ``u`` of some features among non-matches *given* other features' levels —
    ``given`` maps a feature's index to the levels it must be at, all of them at once — a
    dependence the independent model would miss (people sharing an address share the
    surname: :mod:`hub.linkage.household`).

    ``u`` maps a feature's index to its ``u`` per level (level 0 ignored). For a pair
    meeting the condition, each such feature's weight is ``log2(m / u_given)`` instead of
    ``log2(m / u)``: :meth:`bits` is the difference, ``log2(u / u_given)`` summed.
    """

    given: dict[int, tuple[int, ...]]
    u: dict[int, np.ndarray]

    def bits(self, levels: np.ndarray, u_marginal: tuple[np.ndarray, ...]) -> np.ndarray:
        """Bits to add to each row's weight (0 where the condition does not hold)."""
        out = np.zeros(len(levels))
        on = np.ones(len(levels), dtype=bool)
        for k, allowed in self.given.items():
            on &= np.isin(levels[:, k], allowed)
        if not on.any():
            return out
        for k, u_given in self.u.items():
            level = levels[on, k]
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.log2(u_marginal[k][level] / u_given[level])
            out[on] += np.where(level > 0, ratio, 0.0)
        return out

    def as_dict(self, specs: tuple[FeatureSpec, ...]) -> dict[str, object]:
        return {
            "given": {specs[k].name: [specs[k].levels[i] for i in allowed]
                      for k, allowed in self.given.items()},
            "u": {specs[k].name: [None if np.isnan(x) else float(x) for x in values]
                  for k, values in self.u.items()},
        }


@dataclass(frozen=True, slots=True)
class FSModel:
    """A fitted Fellegi–Sunter model.

    ``m[k]`` and ``u[k]`` hold one probability per level of feature ``k``; ``nan`` at level
    0 when missing values are ignored (the EM), a real probability when the fitting method
    models them (the ECM, which treats missing as disagreement).
    """

    specs: tuple[FeatureSpec, ...]
    m: tuple[np.ndarray, ...]
    u: tuple[np.ndarray, ...]
    prior: float
    method: str
    iterations: int
    converged: bool
    prior_scope: str = "candidate pairs"
    conditional: tuple[Conditional, ...] = ()

    def level_weights(self) -> list[np.ndarray]:
        """``log2(m/u)`` per feature and level; 0 where the level is ignored."""
        out = []
        for m, u in zip(self.m, self.u, strict=True):
            with np.errstate(invalid="ignore"):
                w = np.log2(m / u)
            out.append(np.where(np.isnan(w), 0.0, w))
        return out

    @property
    def prior_weight(self) -> float:
        """``log2(λ/(1-λ))``: the weight of a pair with no evidence at all."""
        return float(np.log2(self.prior / (1.0 - self.prior)))

    def match_weight(self, levels: np.ndarray, *, conditional: bool = True) -> np.ndarray:
        """Match weight (bits) of each row of ``levels`` ``(n, n_features)``; without
        ``conditional``, as if every feature were independent among non-matches."""
        total = np.full(len(levels), self.prior_weight)
        for k, w in enumerate(self.level_weights()):
            total += w[levels[:, k]]
        for c in self.conditional if conditional else ():
            total += c.bits(levels, self.u)
        return total

    def as_dict(self) -> dict[str, object]:
        features = []
        for spec, m, u, w in zip(self.specs, self.m, self.u, self.level_weights(), strict=True):
            features.append(
                {
                    "name": spec.name,
                    "kind": spec.kind,
                    "levels": [
                        {
                            "level": label,
                            "m": None if np.isnan(m[i]) else float(m[i]),
                            "u": None if np.isnan(u[i]) else float(u[i]),
                            "weight": float(w[i]),
                        }
                        for i, label in enumerate(spec.levels)
                    ],
                }
            )
        return {
            "method": self.method,
            "prior": self.prior,
            "prior_scope": self.prior_scope,
            "prior_weight": self.prior_weight,
            "iterations": self.iterations,
            "converged": self.converged,
            "features": features,
            "conditional": [c.as_dict(self.specs) for c in self.conditional],
        }


def probability(weight: np.ndarray) -> np.ndarray:
    """Posterior match probability of a match weight in bits."""
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -1000.0, 1000.0)))


def pack_levels(levels: np.ndarray, specs: list[FeatureSpec]) -> np.ndarray:
    """Pack each row of ``levels`` into one mixed-radix int64 pattern code."""
    radices = np.asarray([s.n_levels for s in specs], dtype=np.float64)
    if float(np.prod(radices)) >= 2.0**62:
        raise ValueError("too many comparison features to pack into one int64 pattern")
    codes = np.zeros(len(levels), dtype=np.int64)
    for k, spec in enumerate(specs):
        codes = codes * spec.n_levels + levels[:, k]
    return codes


def aggregate_patterns(codes: np.ndarray, specs: list[FeatureSpec]):
    """Pattern codes of every pair → ``(patterns (P, K), counts (P,), inverse (n,))``.

    Factorised by hashing (O(n), no sort of the pairs); ``patterns[inverse]`` gives back
    each pair's levels.
    """
    radices = [s.n_levels for s in specs]
    inverse, uniques = pd.factorize(codes, sort=True)
    counts = np.bincount(inverse, minlength=len(uniques)).astype(np.float64)
    patterns = np.zeros((len(uniques), len(radices)), dtype=np.int8)
    rest = np.asarray(uniques, dtype=np.int64)
    for k in range(len(radices) - 1, -1, -1):
        patterns[:, k] = rest % radices[k]
        rest = rest // radices[k]
    return patterns, counts, inverse.astype(np.int64)


def _one_hot(patterns: np.ndarray, specs: list[FeatureSpec]) -> tuple[np.ndarray, np.ndarray]:
    """Indicator matrix of the non-missing levels, and each column's feature index."""
    blocks, owner = [], []
    for k, spec in enumerate(specs):
        levels = np.arange(1, spec.n_levels)
        blocks.append((patterns[:, k : k + 1] == levels).astype(np.float64))
        owner.extend([k] * len(levels))
    return np.hstack(blocks), np.asarray(owner)


def _normalise(counts: np.ndarray, owner: np.ndarray, n_features: int) -> np.ndarray:
    totals = np.bincount(owner, weights=counts, minlength=n_features)
    return counts / totals[owner]


@dataclass(frozen=True, slots=True)
class PairSample:
    """Distinct patterns of the record pairs that are *not* candidates, represented by a
    uniform random sample: ``weights`` are pattern counts scaled so they sum to the number
    of non-candidate pairs.

    Blocking keeps mostly matches, so EM on candidates alone sees too few non-matches and
    can mistake a common kind of error for the non-match class. With the sample, EM fits
    the model of *all* record pairs: the candidates exactly, the rest by the sample.
    """

    patterns: np.ndarray
    weights: np.ndarray


def fit_em(
    patterns: np.ndarray,
    counts: np.ndarray,
    specs: list[FeatureSpec],
    init_posterior: np.ndarray,
    *,
    sample: PairSample | None = None,
    fixed_u: dict[int, np.ndarray] | None = None,
    tied: dict[int, np.ndarray] | None = None,
    conditional: tuple[Conditional, ...] = (),
    max_iter: int = 500,
    tol: float = 1e-7,
) -> tuple[FSModel, np.ndarray]:
    """Fit the multi-level model to distinct ``patterns`` seen ``counts`` times (the
    candidate pairs), plus the weighted ``sample`` of non-candidate pairs if given.

    λ is then the match share among all record pairs, and ``u`` is dominated by the
    (sampled) non-candidate pairs, as it should be; the rare agreements that make a pair a
    candidate (same first name and birth date…) are counted exactly from the candidates
    rather than estimated from a handful of sampled pairs.

    ``fixed_u`` maps a feature's index to the ``u`` of its non-missing levels that the EM
    keeps instead of estimating (``hub.linkage.salts.fixed_u``).

    ``tied`` maps a feature's index to a mask over its non-missing levels that say the same
    thing about the field and differ only by how it was seen — a split that other features
    decide (``hub.linkage.salts.tied_levels``). Their ``m`` is the group's total spread
    like their ``u``: every level of the group weighs ``log2(Σm / Σu)``, so the split counts
    no evidence the other features already count.

    ``conditional``: dependences among the non-matches (:class:`Conditional`); a pattern
    meeting one is weighed with its conditional ``u`` in the E-step, and the model keeps
    them for scoring (:meth:`FSModel.match_weight`).

    ``init_posterior`` is a first guess of each candidate pattern's match probability
    (sampled pairs start as non-matches): EM starts with an M-step from it, which ties the
    "match" class to that guess (no label switching) and starts near the right optimum.
    Returns the model and the final posterior of each candidate pattern.
    """
    n_candidates = len(patterns)
    g = np.clip(np.asarray(init_posterior, dtype=np.float64), 1e-6, 1 - 1e-6)
    if sample is not None and len(sample.patterns):
        patterns = np.vstack([patterns, sample.patterns])
        counts = np.concatenate([counts, sample.weights])
        # Sampled pairs start as non-matches, exactly: they stand for all pairs (weights
        # of about pairs / sample size), so even 1e-6 of a match each is 10^8 pseudo-
        # matches at ten million records a side — fifty times the true ones — for the
        # first M-step to learn ``m`` from (docs/scaling.md, "Measured").
        g = np.concatenate([g, np.zeros(len(sample.patterns))])
    onehot, owner = _one_hot(patterns, specs)
    n_features = len(specs)
    total = max(float(counts.sum()), 1.0)  # no pairs at all: fit the pseudo-counts
    previous = None
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        wm = counts * g
        prior = float(np.clip(wm.sum() / total, 1e-15, 1 - 1e-9))
        m = _normalise(onehot.T @ wm + PSEUDO_COUNT, owner, n_features)
        u = _normalise(onehot.T @ (counts - wm) + PSEUDO_COUNT, owner, n_features)
        for k, values in (fixed_u or {}).items():
            u[owner == k] = values
        for k, mask in (tied or {}).items():
            _tie(m, u, np.flatnonzero(owner == k)[mask])
        log_odds = np.log(prior) - np.log1p(-prior)
        shift = np.zeros(len(patterns))
        if conditional:
            u_levels = _per_feature(m, u, specs)[1]
            shift = np.log(2.0) * sum(c.bits(patterns, u_levels) for c in conditional)
        g = _logistic(log_odds + onehot @ (np.log(m) - np.log(u)) + shift)
        params = np.concatenate([[prior], m, u])
        if previous is not None and np.max(np.abs(params - previous)) < tol:
            converged = True
            break
        previous = params
    m_levels, u_levels = _per_feature(m, u, specs)
    scope = "all pairs" if sample is not None else "candidate pairs"
    model = FSModel(tuple(specs), m_levels, u_levels, prior, "em", iteration, converged, scope,
                    tuple(conditional))
    return model, g[:n_candidates]


def _tie(m: np.ndarray, u: np.ndarray, group: np.ndarray) -> None:
    """Spread the group's total ``m`` over its levels in proportion to their ``u`` (in
    place): each level's ``m/u`` becomes the group's."""
    if len(group) > 1:
        m[group] = m[group].sum() * u[group] / u[group].sum()


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -700, 700)))


def _per_feature(m: np.ndarray, u: np.ndarray, specs: list[FeatureSpec]):
    m_out, u_out, pos = [], [], 0
    for spec in specs:
        n = spec.n_levels - 1
        m_out.append(np.r_[np.nan, m[pos : pos + n]])
        u_out.append(np.r_[np.nan, u[pos : pos + n]])
        pos += n
    return tuple(m_out), tuple(u_out)


def initial_posterior(patterns: np.ndarray, specs: list[FeatureSpec]) -> np.ndarray:
    """A first guess: a pair is probably a match when most of its known features (at
    least two) are at their top level (agree / highest Dice band)."""
    top = np.asarray([s.n_levels - 1 for s in specs])
    present = patterns > 0
    at_top = ((patterns == top) & present).sum(axis=1)
    likely = (at_top >= 2) & (at_top * 2 > present.sum(axis=1))
    return np.where(likely, 0.9, 0.01)


def ecm_binary(patterns: np.ndarray, specs: list[FeatureSpec]) -> np.ndarray:
    """Binarise levels for the classic two-level ECM: agreement is the top level (Dice at
    or above the second-highest threshold for Bloom fields); missing counts as
    disagreement (the ECM cannot ignore it)."""
    out = np.zeros_like(patterns, dtype=np.int8)
    for k, spec in enumerate(specs):
        out[:, k] = patterns[:, k] >= _ecm_cut(spec)
    return out


def _ecm_cut(spec: FeatureSpec) -> int:
    """Lowest level counted as agreement: the top level, or the top two Dice bands."""
    is_dice = len(spec.levels) > 1 and spec.levels[1].startswith("dice")
    return spec.n_levels - 2 if is_dice else spec.n_levels - 1


def fit_ecm(
    patterns: np.ndarray, counts: np.ndarray, specs: list[FeatureSpec], *, max_iter: int = 500
) -> FSModel:
    """recordlinkage's ECM on binarised features, returned as an :class:`FSModel`."""
    import recordlinkage

    binary = ecm_binary(patterns, specs)
    # recordlinkage fits on one row per pair; expand the distinct patterns by their counts.
    rows = np.repeat(binary, counts.astype(np.int64), axis=0)
    frame = pd.DataFrame(rows, columns=[s.name for s in specs])
    classifier = recordlinkage.ECMClassifier(init="jaro", binarize=None, max_iter=max_iter)
    with warnings.catch_warnings():
        # recordlinkage 0.16 calls pandas/sklearn APIs that emit FutureWarnings; they are
        # its business, not a defect of this run.
        warnings.simplefilter("ignore")
        classifier.fit(frame)
        m_probs, u_probs, prior = classifier.m_probs, classifier.u_probs, float(classifier.p)
    m_out, u_out = [], []
    for spec in specs:
        bits = np.arange(spec.n_levels) >= _ecm_cut(spec)
        m_map, u_map = m_probs.get(spec.name, {}), u_probs.get(spec.name, {})
        for source, out in ((m_map, m_out), (u_map, u_out)):
            probs = np.asarray([source.get(int(b), 0.5) for b in bits], dtype=np.float64)
            # ECM can drive a probability to 0 (or NaN when it fails to converge): keep
            # every weight finite; NaN levels end up weightless.
            out.append(np.clip(probs, 1e-12, 1.0))
    return FSModel(tuple(specs), tuple(m_out), tuple(u_out), prior, "ecm", max_iter, True)
