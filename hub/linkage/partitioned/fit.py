"""What the driver computes between and after the partition tasks, from their small results:
the pair budget (from the summed block sizes), the model (from the summed pattern counts,
the sufficient statistics of the EM, and the weighted random sample), the accepted pairs
gathered for one-to-one and clustering, and the report's per-pair facts.

Each mirrors the in-memory engine's step (:mod:`hub.linkage.engine`) over the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hub.linkage.candidates import Candidates, CappedKey
from hub.linkage.compare import FeatureSpec
from hub.linkage.config import LinkageConfig
from hub.linkage.dedup import pair_space, select_links
from hub.linkage.em import (
    FSModel,
    PairSample,
    aggregate_patterns,
    fit_ecm,
    fit_em,
    initial_posterior,
    probability,
)
from hub.linkage.household import coresident
from hub.linkage.partitioned.layout import RunPlan, load_arrays
from hub.linkage.report import PairFacts, PairOutcome, weight_histogram
from hub.linkage.salts import fixed_u, merge_unsalted, tied_levels, unsalted_as_missing
from hub.linkage.tokens import AgencyTokens

_MASK32 = (1 << 32) - 1


@dataclass(slots=True)
class PairBudget:
    """One agency pair's pair budget: blocks of ``skip_from`` raw pairs or more skipped
    (None: everything fits), and the capped blocks to report, in the in-memory order."""

    skip_from: int | None = None
    capped: list[dict[str, Any]] = field(default_factory=list)
    raw_skipped: int = 0


def pair_budgets(plan: RunPlan, blocked: list[dict[str, Any]], budget: int) -> list[PairBudget]:
    """Apply ``max_candidates`` per agency pair over every key column and partition.

    The in-memory engine skips the largest blocks one by one until the rest fits; here whole
    sizes are skipped (every block of the size at which the rest first fits), so ties at
    that size may skip a few blocks more. Nothing is skipped while the budget holds.
    """
    out = []
    for pair in range(len(plan.pairs)):
        capped: dict[int, CappedKey] = {}
        sizes: dict[int, dict[int, int]] = {}  # key → packed (left, right) size → blocks
        for r in blocked:
            entry = r["pairs"][pair]
            if entry["capped"]:
                capped[r["key"]] = _merge(capped.get(r["key"]), entry["capped"], plan.keys)
            per_key = sizes.setdefault(r["key"], {})
            for packed, count in zip(*entry["block_sizes"], strict=True):
                per_key[packed] = per_key.get(packed, 0) + count
        result = PairBudget(capped=[capped[k].as_dict() for k in sorted(capped)])
        products = {k: {p: (p >> 32) * (p & _MASK32) for p in v} for k, v in sizes.items()}
        total = sum(products[k][p] * c for k, v in sizes.items() for p, c in v.items())
        if total > budget:
            by_size: dict[int, int] = {}
            for k, v in sizes.items():
                for p, c in v.items():
                    by_size[products[k][p]] = by_size.get(products[k][p], 0) + products[k][p] * c
            remaining = total
            for size in sorted(by_size, reverse=True):
                remaining -= by_size[size]
                result.skip_from = size
                if remaining <= budget:
                    break
            for k in sorted(sizes):
                dropped = {p: c for p, c in sizes[k].items()
                           if products[k][p] >= (result.skip_from or 0)}
                if dropped:
                    skipped = sum(products[k][p] * c for p, c in dropped.items())
                    result.raw_skipped += skipped
                    result.capped.append(CappedKey(
                        key=plan.keys[k], reason="pair_budget", blocks=sum(dropped.values()),
                        largest_left=max(p >> 32 for p in dropped),
                        largest_right=max(p & _MASK32 for p in dropped),
                        pairs_skipped=skipped).as_dict())
        out.append(result)
    return out


def _merge(seen: CappedKey | None, entry: dict[str, Any], keys: list[str]) -> CappedKey:
    left, right = entry["largest_block"]
    if seen is None:
        return CappedKey(key=entry["key"], reason=entry["reason"], blocks=entry["blocks"],
                         largest_left=left, largest_right=right,
                         pairs_skipped=entry["pairs_skipped"])
    return CappedKey(key=seen.key, reason=seen.reason, blocks=seen.blocks + entry["blocks"],
                     largest_left=max(seen.largest_left, left),
                     largest_right=max(seen.largest_right, right),
                     pairs_skipped=seen.pairs_skipped + entry["pairs_skipped"])


def _summed(parts: list[tuple[Any, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Pattern codes with counts (or weights), summed over the parts."""
    codes = np.concatenate([np.asarray(c, dtype=np.int64) for c, _ in parts] or [np.zeros(0)])
    values = np.concatenate([np.asarray(v, dtype=np.float64) for _, v in parts] or [np.zeros(0)])
    unique, inverse = np.unique(codes.astype(np.int64), return_inverse=True)
    return unique, np.bincount(inverse, weights=values, minlength=len(unique))


@dataclass(slots=True)
class Fitted:
    """The fitted model and the pattern counts it was fitted on (global and per pair)."""

    model: FSModel
    codes: np.ndarray
    patterns: np.ndarray
    counts: np.ndarray
    per_pair: list[tuple[np.ndarray, np.ndarray]]
    specs: list[FeatureSpec]

    def weights(self, plan: RunPlan, pair: int, config: LinkageConfig) -> np.ndarray:
        """Weight of every pattern for one agency pair: without the household dependence
        between two one-to-one agencies (:func:`hub.linkage.engine._one_to_one_weights`)."""
        scored = unsalted_as_missing(self.patterns, self.specs)
        a, b = plan.pairs[pair]
        one_to_one = not plan.agencies[a].dedup and not plan.agencies[b].dedup
        conditional = not (self.model.conditional and one_to_one)
        return self.model.match_weight(scored, conditional=conditional)

    def weight_table(self, plan: RunPlan, pair: int, config: LinkageConfig) -> list[Any]:
        return [self.codes, self.weights(plan, pair, config)]

    def histogram(self, plan: RunPlan, config: LinkageConfig, compared: list[dict[str, Any]],
                  outcomes: list[PairOutcome]) -> dict[str, Any]:
        weights, counts = [], []
        for pair, (codes, pair_counts) in enumerate(self.per_pair):
            table = self.weights(plan, pair, config)
            weights.append(table[np.searchsorted(self.codes, codes)])
            counts.append(pair_counts)
        links = [o.weight[o.linked] for o in outcomes]
        return weight_histogram(np.concatenate(weights or [np.zeros(0)]),
                                np.concatenate(counts or [np.zeros(0)]),
                                np.concatenate(links or [np.zeros(0)]))


def fit(plan: RunPlan, config: LinkageConfig, specs: list[FeatureSpec],
        compared: list[dict[str, Any]]) -> Fitted:
    """The model of :func:`hub.linkage.link`, fitted on the buckets' summed counts."""
    per_pair = [_summed([tuple(r["patterns"]) for r in compared if r["pair"] == pair])
                for pair in range(len(plan.pairs))]
    codes, counts = _summed(list(per_pair))
    patterns = aggregate_patterns(codes, specs)[0] if len(codes) else np.zeros(
        (0, len(specs)), np.int8)
    if config.method == "ecm" and len(patterns):
        model = fit_ecm(patterns, counts, specs, max_iter=config.em_max_iter)
    else:
        sample = _sample(plan, config, specs, compared) if config.u_source == "random" else None
        fitted = merge_unsalted(patterns, specs)
        model, _ = fit_em(
            fitted, counts, specs, initial_posterior(fitted, specs), sample=sample,
            fixed_u=fixed_u(specs), tied=tied_levels(specs),
            conditional=coresident(specs, sum(a.size for a in plan.agencies))
            if config.dedup else (),
            max_iter=config.em_max_iter, tol=config.em_tol)
    return Fitted(model=model, codes=codes, patterns=patterns, counts=counts,
                  per_pair=per_pair, specs=specs)


def _sample(plan: RunPlan, config: LinkageConfig, specs: list[FeatureSpec],
            compared: list[dict[str, Any]]) -> PairSample:
    """The random non-candidate pairs' patterns, each agency pair's weighted so they sum
    to its number of non-candidate pairs (as :func:`hub.linkage.engine._random_sample`)."""
    parts = []
    for pair, (a, b) in enumerate(plan.pairs):
        mine = [r for r in compared if r["pair"] == pair]
        fresh = sum(r["sample_fresh"] for r in mine)
        if fresh == 0:
            continue
        candidates = sum(r["candidates"] for r in mine)
        space = pair_space(plan.agencies[a].size, plan.agencies[b].size, a == b)
        weight = (space - candidates) / fresh
        codes, counts = _summed([tuple(r["sample"]) for r in mine])
        parts.append((codes, counts * weight))
    if not parts:
        return PairSample(np.zeros((0, len(specs)), np.int8), np.zeros(0))
    codes, weights = _summed(parts)
    patterns = aggregate_patterns(codes, specs)[0]
    return PairSample(merge_unsalted(patterns, specs), weights)


def accepted_outcomes(plan: RunPlan, config: LinkageConfig, compare_specs: list[dict[str, Any]],
                      agencies: list[AgencyTokens]) -> list[PairOutcome]:
    """Each agency pair's accepted pairs, in the in-memory engine's order (by pair code),
    after its one-to-one step (``hub.linkage.engine.assign_outcomes``)."""
    outcomes = []
    for pair, (a, b) in enumerate(plan.pairs):
        parts = [load_arrays(plan.scored(pair, tuple(s["bucket"]), "accepted"))
                 for s in compare_specs if s["pair"] == pair]
        lr = np.concatenate([p["left"] for p in parts] or [np.zeros(0, np.int64)])
        rr = np.concatenate([p["right"] for p in parts] or [np.zeros(0, np.int64)])
        w = np.concatenate([p["weight"] for p in parts] or [np.zeros(0)])
        order = np.argsort(lr * max(plan.agencies[b].size, 1) + rr, kind="stable")
        lr, rr, w = lr[order].astype(np.int64), rr[order].astype(np.int64), w[order]
        accepted = np.ones(len(lr), dtype=bool)
        linked = accepted.copy()
        if config.one_to_one and len(lr):
            keep = select_links(lr, rr, w, left_unique=not plan.agencies[a].dedup,
                                right_unique=not plan.agencies[b].dedup)
            linked[~keep] = False
        left, right = agencies[a], agencies[b]
        outcomes.append(PairOutcome(
            left=left.name, right=right.name, n_left=left.size, n_right=right.size,
            candidates=Candidates(left.name, right.name, lr, rr), weight=w,
            probability=probability(w), accepted=accepted, one_to_one=linked.copy(),
            linked=linked))
    return outcomes


def pair_facts_of(plan: RunPlan, config: LinkageConfig, outcomes: list[PairOutcome],
                  compared: list[dict[str, Any]], blocked: list[dict[str, Any]],
                  budgets: list[PairBudget]) -> list[PairFacts]:
    """The report's facts of each agency pair, summed over its buckets."""
    facts = []
    for pair, out in enumerate(outcomes):
        mine = [r for r in compared if r["pair"] == pair]
        raw = sum(r["pairs"][pair]["raw_pairs"] for r in blocked) - budgets[pair].raw_skipped
        facts.append(PairFacts(
            left=out.left, right=out.right, n_left=out.n_left, n_right=out.n_right,
            candidates=sum(r["candidates"] for r in mine), raw_pairs=max(raw, 0),
            accepted=int(out.accepted.sum()), after_one_to_one=int(out.one_to_one.sum()),
            links=int(out.linked.sum()), true_links=float(out.probability[out.linked].sum()),
            expected=_expected(plan, pair, mine), capped=budgets[pair].capped))
    return facts


def _expected(plan: RunPlan, pair: int, mine: list[dict[str, Any]]) -> float:
    """:func:`hub.linkage.report.expected_matches` from the buckets' per-record sums."""
    a, b = plan.pairs[pair]
    left, right = plan.agencies[a], plan.agencies[b]
    per_left = np.zeros(left.size)
    per_right = np.zeros(right.size)
    for r in mine:
        i, j = r["bucket"]
        sums = load_arrays(plan.scored(pair, (i, j), "expected"))
        lo_l, lo_r = i * plan.slice_rows, j * plan.slice_rows
        per_left[lo_l : lo_l + len(sums["left"])] += sums["left"]
        per_right[lo_r : lo_r + len(sums["right"])] += sums["right"]
    if a == b:
        return float(per_left.sum())
    if not right.dedup:
        per_left = np.minimum(per_left, 1.0)
    if not left.dedup:
        per_right = np.minimum(per_right, 1.0)
    return float(min(per_left.sum(), per_right.sum()))
