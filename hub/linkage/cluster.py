"""Clusters when some agencies may hold duplicates (``LinkageConfig.dedup``).

Links of all agency pairs, within agencies included, form a graph; its connected
components are people, as in :func:`hub.linkage.assign.cluster_records`, with two rules:

- a cluster holds at most one record of each *one-to-one* agency (as today) and any
  number of records of an agency that may hold duplicates;
- **chaining guard**: a component larger than ``max_size`` records is not taken whole.
  Connected components are transitive: A–B and B–C put A and C together whatever A–C
  says, so one false link between two families of duplicates (twins at one address, a
  reused id) would join them, and a run of such links could grow a giant cluster. Real
  duplicate sets are small (FEBRL3: an original and at most five duplicates; agency
  duplicate rates of 1–3 %), so a component past the size limit is evidence of chaining.

Components that break a rule — nearly none — are rebuilt by a Kruskal-style pass over
their links from the highest weight down: two partial clusters merge only when their
one-to-one agencies are disjoint and their joint size stays within ``max_size``. The
strongest links win, so a weak bridge between two dense groups is the link refused.
Everything else is vectorised; the pass is a Python loop over the few conflicting links.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hub.linkage.assign import Clustering
from hub.linkage.candidates import sorted_unique


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _bad_components(
    labels: np.ndarray, agency_of: np.ndarray, unique: np.ndarray, max_size: int
) -> np.ndarray:
    """Labels of the components holding two records of one one-to-one agency or more than
    ``max_size`` records."""
    sizes = np.bincount(labels)
    bad = [np.flatnonzero(sizes > max_size)]
    rows = np.flatnonzero(unique[agency_of])
    order = rows[np.lexsort((agency_of[rows], labels[rows]))]
    dup = (labels[order][1:] == labels[order][:-1]) & (
        agency_of[order][1:] == agency_of[order][:-1]
    )
    bad.append(labels[order][1:][dup])
    return sorted_unique(np.concatenate(bad).astype(np.int64))


def cluster_with_duplicates(
    agency_of: np.ndarray,
    unique: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    *,
    max_size: int,
) -> Clustering:
    """Clusters of records (global indexes ``0..n-1``; ``agency_of`` their agency,
    ``unique[agency]`` whether it holds one record per person) joined by links
    ``src``–``dst``, under the two rules of this module."""
    n = len(agency_of)
    used = np.ones(len(src), dtype=bool)
    labels = _components(n, src, dst)
    bad = _bad_components(labels, agency_of, unique, max_size)
    refused = 0
    if len(bad):
        is_bad = np.zeros(int(labels.max()) + 1, dtype=bool)
        is_bad[bad] = True
        bad_links = np.flatnonzero(is_bad[labels[src]])
        kept = _bounded_kruskal(
            agency_of, unique, src[bad_links], dst[bad_links], weight[bad_links], max_size
        )
        used[bad_links[~kept]] = False
        refused = int((~kept).sum())
        labels = _components(n, src[used], dst[used])
    # Number clusters by their first record, so ids follow input order and are stable.
    _, first, inverse = sorted_unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return Clustering(rank[inverse], used, len(bad), refused)


def _bounded_kruskal(
    agency_of: np.ndarray,
    unique: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    max_size: int,
) -> np.ndarray:
    """Union-find over links by descending weight; a merge keeps the one-to-one agency
    sets disjoint and the size within ``max_size``."""
    parent: dict[int, int] = {}
    size: dict[int, int] = {}
    holds: dict[int, set[int]] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def state(root: int) -> tuple[int, set[int]]:
        if root not in size:
            agency = int(agency_of[root])
            size[root] = 1
            holds[root] = {agency} if unique[agency] else set()
        return size[root], holds[root]

    kept = np.zeros(len(src), dtype=bool)
    for i in np.lexsort((dst, src, -weight)).tolist():
        a, b = find(int(src[i])), find(int(dst[i]))
        if a == b:
            kept[i] = True
            continue
        (size_a, set_a), (size_b, set_b) = state(a), state(b)
        if set_a & set_b or size_a + size_b > max_size:
            continue
        if size_a < size_b:
            a, b, set_a, set_b = b, a, set_b, set_a
        parent[b] = a
        size[a] = size_a + size_b
        set_a |= set_b
        holds[a] = set_a
        del size[b], holds[b]
        kept[i] = True
    return kept
