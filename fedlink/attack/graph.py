"""Seeding by graph matching: the most frequent encodings ↔ the most frequent public values.

In the spirit of Vidanage, Ranbaduge, Christen & Schnell (2020, "A graph matching attack
on privacy-preserving record linkage", CIKM): the attacker

1. runs the open encoder under several random keys of its *own* on the public values
   (:class:`fedlink.attack.public.Simulations`), and learns for each value its expected
   feature count (a Bloom filter's bit count) and, for each pair of frequent values, the
   expected overlap of their encodings — a property of the construction, not of the key;
2. takes the project's most frequent distinct encodings, with their counts, feature
   counts and pairwise overlaps (the encodings' similarity graph);
3. matches the two graphs: a node cost (relative frequency against public frequency,
   feature count against the expected one) gives a first one-to-one assignment
   (Hungarian algorithm); then, repeatedly, each encoding is scored against each value
   by how well its observed overlaps with the other encodings fit the expected overlaps
   of that value with their assigned values (edge cost), and the assignment is redone on
   node + edge costs until it is stable.

The pairs whose value is also the cheapest one for the encoding and whose edges fit are
kept as seeds for pattern mining (:mod:`fedlink.attack.patterns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from fedlink.attack.features import EncodedColumn, FloatArray
from fedlink.attack.public import PublicTable

#: Frequent encodings and values matched (the description of the method: 60 and 200).
SEED_ENCODINGS = 60
SEED_VALUES = 200
_MAX_ROUNDS = 20
#: Largest mean squared edge z-score (halved) of a kept seed.
_EDGE_FIT = 2.0
#: Weight of the edge cost against the node cost.
EDGE_WEIGHT = 10.0


@dataclass(frozen=True)
class Simulation:
    """What the attacker's own-key encodings of the public values tell it."""

    #: Per public value: mean and standard deviation of its feature count.
    size_mean: FloatArray
    size_std: FloatArray
    #: Over the ``top`` most frequent values: mean and std of pairwise overlaps.
    overlap_mean: FloatArray
    overlap_std: FloatArray
    #: Features one more bigram adds, on average (the slope of size over bigram count).
    features_per_gram: float

    @classmethod
    def of(cls, matrices: Sequence[sp.csr_matrix], top: int, gram_counts: FloatArray) -> Simulation:
        """From one feature matrix per own key (rows: public values, in table order) and
        each value's number of distinct bigrams."""
        sizes = np.stack([np.asarray(m.sum(axis=1)).ravel() for m in matrices])
        overlaps = np.stack([(m[:top] @ m[:top].T).toarray() for m in matrices])
        mean = sizes.mean(axis=0)
        # Few keys give a noisy spread per value: pool it as a linear function of the mean.
        var = sizes.var(axis=0, ddof=1) if len(matrices) > 1 else np.zeros_like(mean)
        design = np.stack([np.ones_like(mean), mean], axis=1)
        coef = np.linalg.lstsq(design, var, rcond=None)[0]
        std = np.sqrt(np.maximum(design @ coef, 1.0))
        if np.ptp(gram_counts) > 0:
            slope = float(np.polyfit(gram_counts, mean, 1)[0])
        else:
            slope = float(mean.mean())
        return cls(mean, std, overlaps.mean(axis=0), overlaps.std(axis=0), max(slope, 1.0))


def _node_cost(
    column: EncodedColumn, table: PublicTable, sim: Simulation, enc: np.ndarray, vals: int
) -> FloatArray:
    freq = column.counts[enc] / max(column.present, 1)
    frequency = np.abs(np.log(freq)[:, None] - np.log(table.weights[:vals])[None, :])
    sizes = column.sizes[enc]
    z = (sizes[:, None] - sim.size_mean[None, :vals]) / np.maximum(sim.size_std[:vals], 1.0)
    cost: FloatArray = frequency + np.minimum(z**2 / 2, 8.0)
    return cost


def _edge_cost(observed: FloatArray, sim: Simulation, assigned: np.ndarray) -> FloatArray:
    """``[e, v]``: mean over the other encodings e' of the halved squared z-score of
    overlap(e, e') against the expected overlap of v with e''s assigned value."""
    vals = sim.overlap_mean.shape[0]
    n = observed.shape[0]
    expected = sim.overlap_mean[:, assigned]  # (vals, enc)
    spread = np.maximum(sim.overlap_std[:, assigned], 1.0) + 0.05 * expected
    # The hot loop of the seeding: one (enc, vals, enc) array, worked in place.
    cost = np.empty((n, vals, n))  # C order: the sum below runs along contiguous memory
    np.subtract(observed[:, None, :], expected[None, :, :], out=cost)
    cost /= spread[None, :, :]
    np.square(cost, out=cost)
    cost *= 0.5
    np.minimum(cost, 8.0, out=cost)
    cost[np.arange(n), :, np.arange(n)] = 0.0  # an encoding's overlap with itself
    # A value's expected overlap with itself is not the overlap of two different names.
    same = assigned[None, :] == np.arange(vals)[:, None]  # (vals, enc)
    cost[:, same] = 8.0
    total: FloatArray = cost.sum(axis=2) / max(n - 1, 1)
    return total


def _ramp(final: float) -> list[float]:
    weights = [1.0]
    while weights[-1] * 2 < final:
        weights.append(weights[-1] * 2)
    return [*weights, final]


def seed_by_graph_matching(
    column: EncodedColumn,
    table: PublicTable,
    sim: Simulation,
    encodings: int = SEED_ENCODINGS,
    values: int = SEED_VALUES,
    edge_weight: float = EDGE_WEIGHT,
) -> dict[int, int]:
    """Seeds ``{distinct encoding: public value index}`` for ``column``."""
    vals = min(values, len(table), sim.overlap_mean.shape[0])
    enc = np.argsort(-column.counts, kind="stable")[: min(encodings, column.distinct, vals)]
    if enc.size < 2 or vals < 2:
        return {}
    top = column.features[enc]
    observed = (top @ top.T).toarray().astype(np.float64)
    node = _node_cost(column, table, sim, enc, vals)
    rows, assigned = linear_sum_assignment(node)
    assigned = assigned[np.argsort(rows)]
    edge = _edge_cost(observed, sim, assigned)
    # Continuation: the edge cost gains weight step by step, each step starting from the
    # previous step's assignment, so a poor first assignment is repaired gradually.
    for weight in _ramp(edge_weight):
        for _ in range(_MAX_ROUNDS):
            edge = _edge_cost(observed, sim, assigned)
            rows, cols = linear_sum_assignment(node + weight * edge)
            new = cols[np.argsort(rows)]
            if np.array_equal(new, assigned):
                break
            assigned = new
    total = node + edge_weight * edge
    best = total.argmin(axis=1)
    fit = edge[np.arange(enc.size), assigned]
    keep = (best == assigned) & (fit <= _EDGE_FIT)
    return {int(e): int(v) for e, v, k in zip(enc, assigned, keep, strict=True) if k}
