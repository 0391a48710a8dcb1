"""From accepted pairs to people: one-to-one per agency pair, then clusters.

**One-to-one.** Within one agency pair a person has at most one record on each side, so
each record keeps at most one link: links are taken greedily from the highest weight down,
skipping a link when either record is already taken. Ties are broken by (left row, right
row), making the order total and the result deterministic. The greedy matching is computed
without a per-link loop: a link that is the best remaining one of *both* its records is
taken by the greedy too (every better link touching either record is already gone), so
each round takes all such mutually-best links at once and drops the links they block. A
few rounds usually settle everything; if rounds stop paying off, the remainder (chains of
near-equal conflicts, a handful of links) is finished by the plain sequential greedy.

**Clusters.** Accepted links of all agency pairs form a graph whose connected components
are people, provided no component holds two records of one agency (A1–B1–A2 through links
of two different agency pairs). Components without such a conflict — nearly all of them —
are accepted as they are, vectorised. Only conflicting components are rebuilt by a
Kruskal-style pass: their links from the highest weight down, merging two partial clusters
only when their agency sets are disjoint, so the stronger links win and every cluster holds
at most one record per agency. Links refused there are counted in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hub.linkage.candidates import sorted_unique

_MAX_VECTOR_ROUNDS = 64


def _rank(left: np.ndarray, right: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Position of each link in the total order (highest weight first)."""
    order = np.lexsort((right, left, -weight))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def one_to_one(left: np.ndarray, right: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Greedy one-to-one selection by weight; returns the mask of links kept."""
    n = len(left)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    order = np.lexsort((right, left, -weight))
    left_s, right_s = left[order], right[order]
    alive = np.ones(n, dtype=bool)
    taken_l = np.zeros(int(left.max()) + 1, dtype=bool)
    taken_r = np.zeros(int(right.max()) + 1, dtype=bool)
    for _ in range(_MAX_VECTOR_ROUNDS):
        idx = np.flatnonzero(alive)  # in rank order, since the arrays are sorted by rank
        if len(idx) == 0:
            break
        # First occurrence of each record among alive links = its best remaining link.
        _, first_l = sorted_unique(left_s[idx], return_index=True)
        _, first_r = sorted_unique(right_s[idx], return_index=True)
        best = np.zeros(len(idx), dtype=np.int8)
        best[first_l] += 1
        best[first_r] += 1
        chosen = idx[best == 2]
        keep[chosen] = True
        taken_l[left_s[chosen]] = True
        taken_r[right_s[chosen]] = True
        alive[idx] = ~(taken_l[left_s[idx]] | taken_r[right_s[idx]])
        if len(chosen) * 100 < len(idx):
            break  # long conflict chains: finish sequentially below
    for i in np.flatnonzero(alive).tolist():
        a, b = left_s[i], right_s[i]
        if not taken_l[a] and not taken_r[b]:
            keep[i] = True
            taken_l[a] = taken_r[b] = True
    mask = np.zeros(n, dtype=bool)
    mask[order[keep]] = True
    return mask


@dataclass(frozen=True, slots=True)
class Clustering:
    """Cluster id of every record (global index) and which links the clusters use."""

    cluster: np.ndarray
    link_used: np.ndarray
    conflicting_components: int
    links_refused: int


def cluster_records(
    agency_of: np.ndarray, src: np.ndarray, dst: np.ndarray, weight: np.ndarray
) -> Clustering:
    """Clusters of records (global indexes ``0..n-1``, ``agency_of`` their agency) joined by
    links ``src``–``dst``, at most one record per agency per cluster."""
    n = len(agency_of)
    used = np.ones(len(src), dtype=bool)
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # A component conflicts when two of its records share an agency.
    order = np.lexsort((agency_of, labels))
    dup = (labels[order][1:] == labels[order][:-1]) & (
        agency_of[order][1:] == agency_of[order][:-1]
    )
    bad_components = sorted_unique(labels[order][1:][dup])
    refused = 0
    if len(bad_components):
        is_bad = np.zeros(int(labels.max()) + 1, dtype=bool)
        is_bad[bad_components] = True
        in_bad = is_bad[labels[src]]
        bad_links = np.flatnonzero(in_bad)
        kept = _constrained_kruskal(agency_of, src[bad_links], dst[bad_links], weight[bad_links])
        used[bad_links[~kept]] = False
        refused = int((~kept).sum())
        graph = coo_matrix((np.ones(int(used.sum())), (src[used], dst[used])), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
    # Number clusters by their first record, so ids follow input order and are stable.
    _, first, inverse = sorted_unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return Clustering(rank[inverse], used, len(bad_components), refused)


def _constrained_kruskal(
    agency_of: np.ndarray, src: np.ndarray, dst: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Union-find over links by descending weight; a merge must keep agency sets disjoint.

    Runs only on the links of conflicting components (rare), so a Python loop is fine.
    """
    parent: dict[int, int] = {}
    agencies: dict[int, set[int]] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    kept = np.zeros(len(src), dtype=bool)
    for i in np.lexsort((dst, src, -weight)).tolist():
        a, b = find(int(src[i])), find(int(dst[i]))
        if a == b:
            kept[i] = True
            continue
        set_a = agencies.setdefault(a, {int(agency_of[a])})
        set_b = agencies.setdefault(b, {int(agency_of[b])})
        if set_a & set_b:
            continue
        if len(set_a) < len(set_b):
            a, b, set_a, set_b = b, a, set_b, set_a
        parent[b] = a
        set_a |= set_b
        del agencies[b]
        kept[i] = True
    return kept
