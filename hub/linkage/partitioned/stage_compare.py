"""Stage 4, *compare*, and stage 5, *score*: one bucket (an agency pair's left row slice ×
right row slice) at a time.

*compare* gathers the bucket's pairs from every key column and partition, drops those of
blocks the pair budget skipped, deduplicates them (the union over key columns, as
:func:`hub.linkage.candidates.candidate_pairs` takes it) and compares them as the
in-memory engine does; it keeps each pair's comparison pattern on disk and returns the
bucket's pattern counts — summed over buckets they are the sufficient statistics the model
is fitted on. It also compares the bucket's share of the uniform random pair sample.
*score* weighs the bucket's pairs with the fitted model and returns the accepted ones
(probability at or above the threshold), which are few, and each record's summed match
probability for the report's expected matches.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hub.linkage.candidates import sorted_unique
from hub.linkage.config import LinkageConfig
from hub.linkage.em import probability
from hub.linkage.engine import comparator_for
from hub.linkage.partitioned.layout import RunPlan, load_arrays, save_arrays
from hub.linkage.partitioned.stage_index import agency_view


def _config(plan: RunPlan) -> LinkageConfig:
    raw = dict(plan.config)
    for name in ("dice_levels", "bloom_blocking", "dedup"):
        raw[name] = tuple(raw[name])
    return LinkageConfig(**raw)


def _candidates(plan: RunPlan, pair: int, bucket: tuple[int, int],
                budget_from: int | None) -> np.ndarray:
    """The bucket's candidate pairs (codes ``left * n_right + right``), deduplicated;
    pairs of blocks of ``budget_from`` raw pairs or more left out (the pair budget)."""
    codes = []
    for path in plan.pair_parts(pair, bucket):
        part = load_arrays(path)
        code = part["code"]
        if budget_from is not None:
            code = code[part["block"] < budget_from]
        codes.append(code)
    if not codes:
        return np.zeros(0, dtype=np.int64)
    return sorted_unique(np.concatenate(codes), overwrite=True)


def _span(plan: RunPlan, agency: int, slice_index: int) -> tuple[int, int]:
    """Rows ``lo…hi-1`` of one row slice of an agency."""
    lo = slice_index * plan.slice_rows
    return lo, min(lo + plan.slice_rows, plan.agencies[agency].size)


def compare_bucket(spec: dict[str, Any]) -> dict[str, Any]:
    """Spec: ``workdir``, ``pair``, ``bucket`` ([i, j]), ``budget_from`` (blocks of this
    many raw pairs or more were skipped by the pair budget, or None), ``sample`` ([left
    rows, right rows] of the random sample that fall in this bucket)."""
    plan = RunPlan.load(spec["workdir"])
    config = _config(plan)
    pair, bucket = spec["pair"], tuple(spec["bucket"])
    a, b = plan.pairs[pair]
    comparator = comparator_for(plan.keys, plan.blooms, config)
    n_right = plan.agencies[b].size
    codes = _candidates(plan, pair, bucket, spec.get("budget_from"))
    (lo_l, hi_l), (lo_r, hi_r) = _span(plan, a, bucket[0]), _span(plan, b, bucket[1])
    left = agency_view(plan, a, lo_l, hi_l)
    right = left if (a, lo_l) == (b, lo_r) else agency_view(plan, b, lo_r, hi_r)
    # Rows local to the two slices from here on.
    lr, rr = codes // max(n_right, 1) - lo_l, codes % max(n_right, 1) - lo_r
    patterns = np.zeros(len(codes), dtype=np.int64)
    for start in range(0, len(codes), config.chunk_pairs):
        stop = start + config.chunk_pairs
        patterns[start:stop] = comparator.codes(left, right, lr[start:stop], rr[start:stop])
    save_arrays(plan.scored(pair, bucket), code=codes, pattern=patterns)
    found, counts = np.unique(patterns, return_counts=True)
    out: dict[str, Any] = {"pair": pair, "bucket": list(bucket), "candidates": len(codes),
                           "patterns": [found.tolist(), counts.tolist()]}
    drawn_here = spec.get("sample") or (np.zeros(0, np.int64), np.zeros(0, np.int64))
    sample_l = np.asarray(drawn_here[0], dtype=np.int64)
    sample_r = np.asarray(drawn_here[1], dtype=np.int64)
    drawn = sample_l * n_right + sample_r
    pos = np.minimum(np.searchsorted(codes, drawn), max(len(codes) - 1, 0))
    fresh = codes[pos] != drawn if len(codes) else np.ones(len(drawn), dtype=bool)
    sample_l, sample_r = sample_l[fresh], sample_r[fresh]
    sampled = comparator.codes(left, right, sample_l - lo_l, sample_r - lo_r, random_pairs=True)
    found, counts = np.unique(sampled, return_counts=True)
    out["sample"] = [found.tolist(), counts.tolist()]
    out["sample_fresh"] = len(sample_l)
    return out


def score_bucket(spec: dict[str, Any]) -> dict[str, Any]:
    """Spec: ``workdir``, ``pair``, ``bucket``, ``weights`` ([pattern codes, weights] of
    every pattern, with this pair's one-to-one choice applied), ``threshold``."""
    plan = RunPlan.load(spec["workdir"])
    pair, bucket = spec["pair"], tuple(spec["bucket"])
    a, b = plan.pairs[pair]
    n_right = plan.agencies[b].size
    scored = load_arrays(plan.scored(pair, bucket))
    codes, patterns = scored["code"], scored["pattern"]
    known = np.asarray(spec["weights"][0], dtype=np.int64)
    table = np.asarray(spec["weights"][1], dtype=np.float64)
    weight = table[np.searchsorted(known, patterns)]
    prob = probability(weight)
    lr, rr = codes // max(n_right, 1), codes % max(n_right, 1)
    (lo_l, hi_l), (lo_r, hi_r) = _span(plan, a, bucket[0]), _span(plan, b, bucket[1])
    accepted = np.flatnonzero(prob >= spec["threshold"])
    save_arrays(plan.scored(pair, bucket, "accepted"), left=lr[accepted],
                right=rr[accepted], weight=weight[accepted])
    per_left = np.bincount(lr - lo_l, weights=prob, minlength=hi_l - lo_l)
    per_right = np.bincount(rr - lo_r, weights=prob, minlength=hi_r - lo_r)
    save_arrays(plan.scored(pair, bucket, "expected"), left=per_left, right=per_right)
    return {"pair": pair, "bucket": list(bucket), "accepted": len(accepted),
            "probability_sum": float(prob.sum())}

