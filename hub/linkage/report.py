"""The quality report every run produces, without ground truth.

Estimators (assumptions in ``ASSUMPTIONS``, reasoning in ``docs/linkage.md``):

- **estimated precision** of a set of links = the mean posterior match probability of
  those links (the expected share of true matches among them, if the model is calibrated);
- **expected true matches among candidates** of an agency pair = ``min(Σ_a min(1, Σ_b g),
  Σ_b min(1, Σ_a g))`` over the posteriors ``g`` of its candidate pairs: each record's
  expected number of true partners is capped at one, because one person has at most one
  record per agency (without the cap, a record with two plausible candidates would count
  as two expected matches) — except partners in an agency that may hold duplicates
  (``LinkageConfig.dedup``), where one person may have several records;
- **estimated recall** = expected true matches among the final links (the sum of their
  posteriors) / expected true matches among candidates.

Everything here is counts, shares, weights and key *names*; the report never holds a pid,
a token or any identity value, so it can be shown to a steward or published with a run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hub.linkage.candidates import Candidates, sorted_unique
from hub.linkage.compare import FeatureSpec
from hub.linkage.config import BLOOM_KEY_PREFIX, LinkageConfig
from hub.linkage.em import FSModel
from hub.linkage.tokens import AgencyTokens

REPORT_VERSION = 1
MAX_HISTOGRAM_BINS = 60

ASSUMPTIONS = (
    "Estimated precision and recall come from the fitted model's posterior match "
    "probabilities; they are as good as the model's calibration. The Fellegi–Sunter model "
    "assumes the comparison features are independent given match status; correlated "
    "match keys make posteriors more extreme than they should be, so the estimates are "
    "optimistic when many pairs sit near the threshold.",
    "Recall is relative to the candidate pairs: true matches that share no match key or "
    "blocking key (or only keys in capped blocks) are never compared and are not counted.",
    "A person has at most one record per agency; expected matches cap each record's "
    "expected number of partners at one.",
)


@dataclass(slots=True)
class PairOutcome:
    """What the engine decided for one agency pair, aligned with its candidate pairs."""

    left: str
    right: str
    n_left: int
    n_right: int
    candidates: Candidates
    weight: np.ndarray
    probability: np.ndarray
    accepted: np.ndarray  # posterior ≥ threshold
    one_to_one: np.ndarray  # kept by the one-to-one step
    linked: np.ndarray  # final links (also kept by the cluster rule)


def _round(x: float | None, digits: int = 6) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


def _ratio(num: float, den: float) -> float | None:
    return _round(num / den) if den > 0 else None


def expected_matches(out: PairOutcome, dedup: frozenset[str] = frozenset()) -> float:
    """Expected number of true matches among one agency pair's candidates: each record's
    expected partners capped at one — except a record's partners in an agency that may
    hold duplicates (``dedup``): a person's two K-12 ids both truly match their one
    higher-education record, and capping that record at one partner counted one expected
    match where the run rightly made two (estimated recall above 1)."""
    c, g = out.candidates, out.probability
    if out.left == out.right:  # within one agency: a record may have several duplicates
        return float(g.sum())
    per_left = np.bincount(c.left_rows, weights=g, minlength=out.n_left)
    per_right = np.bincount(c.right_rows, weights=g, minlength=out.n_right)
    if out.right not in dedup:  # a left record has at most one partner on the right
        per_left = np.minimum(per_left, 1.0)
    if out.left not in dedup:
        per_right = np.minimum(per_right, 1.0)
    return float(min(per_left.sum(), per_right.sum()))


@dataclass(frozen=True, slots=True)
class PairFacts:
    """What the report says of one agency pair: counts and sums only, so the in-memory
    engine (from its :class:`PairOutcome`) and the partitioned engine (summed over its
    buckets) report alike."""

    left: str
    right: str
    n_left: int
    n_right: int
    candidates: int
    raw_pairs: int
    accepted: int
    after_one_to_one: int
    links: int
    #: Sum of the linked pairs' match probabilities (the expected true links).
    true_links: float
    expected: float
    capped: list[dict[str, Any]]


def pair_facts(out: PairOutcome, dedup: frozenset[str] = frozenset()) -> PairFacts:
    """The facts of one in-memory outcome."""
    return PairFacts(
        left=out.left, right=out.right, n_left=out.n_left, n_right=out.n_right,
        candidates=out.candidates.count, raw_pairs=out.candidates.raw_pairs,
        accepted=int(out.accepted.sum()), after_one_to_one=int(out.one_to_one.sum()),
        links=int(out.linked.sum()), true_links=float(out.probability[out.linked].sum()),
        expected=expected_matches(out, dedup),
        capped=[k.as_dict() for k in out.candidates.capped],
    )


def _pair_entry(facts: PairFacts, co_clustered: int) -> dict[str, Any]:
    precision = _ratio(facts.true_links, facts.links)
    recall = _ratio(facts.true_links, facts.expected)
    return {
        "left": facts.left,
        "right": facts.right,
        "records": [facts.n_left, facts.n_right],
        "candidates": facts.candidates,
        "raw_pairs": facts.raw_pairs,
        "accepted": facts.accepted,
        "after_one_to_one": facts.after_one_to_one,
        "links": facts.links,
        "co_clustered": co_clustered,
        "match_rate": [_ratio(co_clustered, facts.n_left), _ratio(co_clustered, facts.n_right)],
        "expected_matches": _round(facts.expected, 2),
        "estimated_precision": precision,
        "estimated_recall": recall,
        "estimated_f1": _f1(precision, recall),
        "capped": facts.capped,
    }


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None or precision + recall == 0:
        return None
    return _round(2 * precision * recall / (precision + recall))


def weight_histogram(weights: np.ndarray, counts: np.ndarray,
                     link_weights: np.ndarray) -> dict[str, Any]:
    """Histogram of the candidates' match weights (``weights`` occurring ``counts`` times:
    one entry per pair, or per distinct pattern with its count) and of the links'."""
    present = counts > 0
    weights, counts = weights[present], counts[present]
    if len(weights) == 0:
        return {"bin_edges": [], "candidates": [], "links": []}
    lo, hi = math.floor(weights.min()), math.ceil(weights.max())
    width = max(1, math.ceil((hi - lo + 1) / MAX_HISTOGRAM_BINS))
    edges = np.arange(lo, hi + width + 1, width, dtype=np.float64)
    all_counts, _ = np.histogram(weights, edges, weights=counts)
    link_counts, _ = np.histogram(link_weights, edges)
    return {
        "bin_edges": edges.tolist(),
        "candidates": np.rint(all_counts).astype(np.int64).tolist(),
        "links": link_counts.tolist(),
    }


def outcomes_histogram(outcomes: list[PairOutcome]) -> dict[str, Any]:
    """:func:`weight_histogram` of the in-memory outcomes."""
    if not outcomes:
        return weight_histogram(np.zeros(0), np.zeros(0), np.zeros(0))
    weights = np.concatenate([o.weight for o in outcomes])
    links = np.concatenate([o.weight[o.linked] for o in outcomes])
    return weight_histogram(weights, np.ones(len(weights)), links)


@dataclass(frozen=True, slots=True)
class AgencyFacts:
    """One agency as the report describes it: name, size and field completeness."""

    name: str
    size: int
    completeness: dict[str, float | None]


def agency_facts(agency: AgencyTokens) -> AgencyFacts:
    """The facts of one in-memory agency."""
    completeness: dict[str, float | None] = {}
    for name, col in agency.blooms.items():
        completeness[name] = _ratio(float(col.valid.sum()), agency.size)
    for name, keys in agency.keys.items():
        if not name.startswith(BLOOM_KEY_PREFIX):  # derived: the bf_ share says it all
            completeness[name] = _ratio(float(keys.emitted.sum()), agency.size)
    return AgencyFacts(agency.name, agency.size, completeness)


def _agency_entry(agency: AgencyFacts, in_multi: np.ndarray) -> dict[str, Any]:
    linked = int(in_multi.sum())
    return {
        "name": agency.name,
        "records": agency.size,
        "linked_records": linked,
        "match_rate": _ratio(linked, agency.size),
        "completeness": agency.completeness,
    }


def build_report(
    *,
    agencies: list[AgencyFacts],
    specs: list[FeatureSpec],
    model: FSModel,
    pairs: list[PairFacts],
    histogram: dict[str, Any],
    cluster_ids: np.ndarray,
    conflicts: tuple[int, int],
    patterns: tuple[np.ndarray, np.ndarray],
    config: LinkageConfig,
    timings: dict[str, float],
) -> dict[str, Any]:
    """The JSON-ready quality report of one run."""
    sizes = np.bincount(cluster_ids)
    in_multi = sizes[cluster_ids] > 1
    bounds = np.cumsum([0] + [a.size for a in agencies])
    multi_sets = {}  # agency → ids of its clusters that hold records of 2+ agencies
    for i, a in enumerate(agencies):
        own = slice(bounds[i], bounds[i + 1])
        multi_sets[a.name] = sorted_unique(cluster_ids[own][in_multi[own]])
    entries = [
        _pair_entry(
            f, len(np.intersect1d(multi_sets[f.left], multi_sets[f.right], assume_unique=True))
        )
        for f in pairs
    ]
    links = sum(f.links for f in pairs)
    true_links = sum(f.true_links for f in pairs)
    expected = sum(f.expected for f in pairs)
    precision, recall = _ratio(true_links, links), _ratio(true_links, expected)
    capped = [
        {"left": p["left"], "right": p["right"], **entry}
        for p in entries for entry in p["capped"]
    ]
    size_counts = np.bincount(sizes)
    config_dict = asdict(config)
    config_dict["dice_levels"] = list(config.dice_levels)
    return {
        "version": REPORT_VERSION,
        "summary": {
            "agencies": len(agencies),
            "records": int(bounds[-1]),
            "candidates": sum(p["candidates"] for p in entries),
            "capped_blocks": sum(c["blocks"] for c in capped),
            "accepted": sum(p["accepted"] for p in entries),
            "links": links,
            "clusters": len(sizes),
            "linked_clusters": int((sizes > 1).sum()),
            "expected_matches": _round(expected, 2),
            "estimated_precision": precision,
            "estimated_recall": recall,
            "estimated_f1": _f1(precision, recall),
            "distinct_patterns": len(patterns[0]),
        },
        "config": config_dict,
        "agencies": [
            _agency_entry(a, in_multi[bounds[i] : bounds[i + 1]]) for i, a in enumerate(agencies)
        ],
        "pairs": entries,
        "capped_blocks": capped,
        "model": model.as_dict(),
        "weights": histogram,
        "clusters": {
            "count": len(sizes),
            "sizes": {str(k): int(v) for k, v in enumerate(size_counts) if k > 0 and v > 0},
            "conflicting_components": conflicts[0],
            "links_refused": conflicts[1],
        },
        "assumptions": list(ASSUMPTIONS),
        "timings": timings,
    }
