"""Agencies whose ids may hold duplicates: pairs within one agency and the link rule.

By default a person holds at most one record per agency (``docs/linkage.md``). An agency
listed in :attr:`hub.linkage.config.LinkageConfig.dedup` may hold several (two student ids
for one child). For such an agency the engine also

- pairs its records with each other (:func:`within_candidates`: the same token joins and
  capped blocks as between agencies, each unordered pair once, never a record with itself),
- samples random pairs of two of its records for the model's ``u`` (:func:`within_draws`),
- keeps every accepted link inside it and, towards a one-to-one agency, at most one link
  per record of its own side (:func:`select_links`),

and the clusters may hold several of its records (:mod:`hub.linkage.cluster`).
:func:`dedup_report` is the report's section on within-agency clusters.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from hub.linkage.assign import one_to_one
from hub.linkage.candidates import Candidates, candidate_pairs, sorted_unique
from hub.linkage.config import LinkageError
from hub.linkage.tokens import AgencyTokens


def check_dedup(names: Collection[str], dedup: Collection[str]) -> frozenset[str]:
    """The agencies that may hold duplicates, checked against the agencies linked."""
    unknown = sorted(set(dedup) - set(names))
    if unknown:
        raise LinkageError(f"dedup names an agency with no token table: {', '.join(unknown)}")
    return frozenset(dedup)


def within_candidates(
    left: AgencyTokens,
    right: AgencyTokens,
    keys: list[str],
    *,
    max_block: int,
    max_candidates: int,
    block_caps: Mapping[str, int] | None = None,
) -> Candidates:
    """Candidate pairs of two different records of one agency (``left is right``), each
    unordered pair once as ``left_rows < right_rows``.

    The join is the one between agencies, of the agency with itself; a block of ``s``
    records counts ``s`` per side against ``max_block`` and ``s²`` raw pairs against the
    budget (the self and mirrored pairs are dropped after the join), so the caps are
    conservative inside an agency.
    """
    if left is not right:
        raise ValueError("within_candidates pairs the records of one agency")
    found = candidate_pairs(
        left, right, keys, max_block=max_block, max_candidates=max_candidates,
        block_caps=block_caps,
    )
    keep = found.left_rows < found.right_rows
    found.left_rows, found.right_rows = found.left_rows[keep], found.right_rows[keep]
    return found


def within_draws(lr: np.ndarray, rr: np.ndarray, *, enumerated: bool):
    """Random (or all, ``enumerated``) ordered row pairs of one agency → unordered pairs
    of two different records, smaller row first: enumerated pairs keep ``lr < rr`` (each
    pair once), random draws are swapped into that order and self pairs dropped."""
    if enumerated:
        keep = lr < rr
        return lr[keep], rr[keep]
    lo, hi = np.minimum(lr, rr), np.maximum(lr, rr)
    keep = lo != hi
    return lo[keep], hi[keep]


def pair_space(n_left: int, n_right: int, within: bool) -> int:
    """Number of record pairs of an agency pair (of one agency: unordered, distinct)."""
    return n_left * (n_left - 1) // 2 if within else n_left * n_right


def best_per_record(rows: np.ndarray, other: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Mask keeping each record's single best link (highest weight, then lowest other
    row, so ties are settled deterministically)."""
    keep = np.zeros(len(rows), dtype=bool)
    if len(rows) == 0:
        return keep
    order = np.lexsort((other, -weight, rows))
    _, first = sorted_unique(rows[order], return_index=True)
    keep[order[first]] = True
    return keep


def select_links(
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    *,
    left_unique: bool,
    right_unique: bool,
) -> np.ndarray:
    """Which accepted links of one agency pair to keep.

    ``*_unique``: that side's agency holds at most one record per person. Both unique:
    greedy one-to-one (:func:`hub.linkage.assign.one_to_one`, today's rule). A record
    whose partner agency is unique keeps its best link only (its person holds one record
    there) while the unique side's records may keep several (their person may hold
    several records on the other side). Neither unique (within one agency, or two
    deduplicated agencies): every accepted link stays; the cluster rule decides.
    """
    if left_unique and right_unique:
        return one_to_one(left, right, weight)
    keep = np.ones(len(left), dtype=bool)
    if right_unique:
        keep &= best_per_record(left, right, weight)
    if left_unique:
        keep &= best_per_record(right, left, weight)
    return keep


def dedup_report(
    agencies: list[AgencyTokens], cluster: np.ndarray, dedup: Collection[str]
) -> dict[str, Any]:
    """Per deduplicated agency: how many of its clusters hold two or more of its records
    (within-agency clusters), the records in them and the largest; no ids."""
    bounds = np.cumsum([0] + [a.size for a in agencies])
    sources = []
    for i, agency in enumerate(agencies):
        if agency.name not in dedup:
            continue
        counts = np.bincount(cluster[bounds[i] : bounds[i + 1]])
        multi = counts[counts > 1]
        sources.append(
            {
                "name": agency.name,
                "records": agency.size,
                "within_clusters": len(multi),
                "records_in_within_clusters": int(multi.sum()),
                "duplicates": int(multi.sum() - len(multi)),
                "largest": int(multi.max()) if len(multi) else 1,
            }
        )
    return {
        "sources": sources,
        "within_clusters": sum(s["within_clusters"] for s in sources),
        "duplicates": sum(s["duplicates"] for s in sources),
    }
