"""One-to-one selection and clustering with at most one record per agency."""

from __future__ import annotations

import numpy as np

from hub.linkage.assign import cluster_records, one_to_one


def _greedy_reference(left, right, weight):
    order = sorted(range(len(left)), key=lambda i: (-weight[i], left[i], right[i]))
    used_l, used_r, keep = set(), set(), np.zeros(len(left), dtype=bool)
    for i in order:
        if left[i] not in used_l and right[i] not in used_r:
            keep[i] = True
            used_l.add(left[i])
            used_r.add(right[i])
    return keep


def test_one_to_one_equals_sequential_greedy_on_random_graphs():
    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(1, 60))
        left = rng.integers(0, 12, n)
        right = rng.integers(0, 12, n)
        # Coarse weights make ties common: the tie-break must match too.
        weight = rng.integers(0, 5, n).astype(float)
        pairs = {}
        for a, b, w in zip(left, right, weight, strict=True):
            pairs.setdefault((a, b), w)
        left = np.array([p[0] for p in pairs])
        right = np.array([p[1] for p in pairs])
        weight = np.array(list(pairs.values()))
        np.testing.assert_array_equal(
            one_to_one(left, right, weight), _greedy_reference(left, right, weight)
        )


def test_one_to_one_long_conflict_chain_is_finished_sequentially():
    # A path a0-b0-a1-b1-... with weights decreasing along it: one mutual best per round.
    edges = []
    for i in range(300):
        edges.append((i, i))
        edges.append((i + 1, i))
    left = np.array([e[0] for e in edges])
    right = np.array([e[1] for e in edges])
    weight = np.arange(len(edges), 0, -1).astype(float)
    np.testing.assert_array_equal(
        one_to_one(left, right, weight), _greedy_reference(left, right, weight)
    )


def test_clusters_keep_one_record_per_agency_and_the_stronger_links():
    # Records: 0 = A1, 1 = B1, 2 = C1, 3 = A2. Links A1-B1 (9), B1-C1 (8), C1-A2 (5).
    agency = np.array([0, 1, 2, 0])
    src, dst = np.array([0, 1, 2]), np.array([1, 2, 3])
    weight = np.array([9.0, 8.0, 5.0])
    result = cluster_records(agency, src, dst, weight)
    c = result.cluster
    assert c[0] == c[1] == c[2]
    assert c[3] != c[0]
    np.testing.assert_array_equal(result.link_used, [True, True, False])
    assert (result.conflicting_components, result.links_refused) == (1, 1)


def test_clusters_without_conflict_are_components_and_ids_follow_input_order():
    agency = np.array([0, 0, 1, 1, 2])
    src, dst = np.array([1, 0]), np.array([2, 3])
    result = cluster_records(agency, src, dst, np.array([1.0, 2.0]))
    assert result.cluster.tolist() == [0, 1, 1, 0, 2]
    assert result.links_refused == 0
