"""Agencies that may hold duplicates (``LinkageConfig.dedup``): pairs within one agency,
clusters with several of its records, one-to-one agencies untouched, the chaining guard."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hub.linkage import LinkageConfig, LinkageError, link
from hub.linkage.cluster import cluster_with_duplicates
from hub.linkage.dedup import select_links, within_candidates, within_draws
from hub.linkage.evaluate import pairwise_scores
from hub.linkage.tokens import prepare

TRIPLE = {
    "first_name": "PRISCILLA",
    "last_name": "VANDERHOEVEN",
    "dob": "1996-04-23",
    "sex": "F",
    "street_address": "78 WILLOWBROOK TER",
    "city": "RICHMOND",
    "postal_code": "23226",
    "truth_id": "TRIPLE",
}


def _one_source(linkage_population):
    """Both agencies' records of one population as one source: about half the people
    hold two records, and one person three."""
    a, b = linkage_population(n_people=300)
    triple = [
        dict(TRIPLE, record_id="T1"),
        dict(TRIPLE, record_id="T2", last_name="VANDERHOVEN", street_address="12 ASH CT"),
        dict(TRIPLE, record_id="T3", first_name="PRISILLA", postal_code="23227"),
    ]
    return a + b + triple


def _scored(result, records, pid_of):
    clusters = result.clusters.to_pandas()
    truth = {pid_of(r["record_id"]): r["truth_id"] for r in records}
    clusters["truth_id"] = clusters["pid"].map(truth)
    return clusters


def test_dedup_one_source_clusters_three_duplicates_of_one_person(
    linkage_population, token_table, pid_of
):
    records = _one_source(linkage_population)
    result = link({"src": token_table(records)}, LinkageConfig(dedup=("src",)))
    clusters = _scored(result, records, pid_of)
    triple = clusters[clusters["truth_id"] == "TRIPLE"]
    assert len(triple) == 3 and triple["cluster_id"].nunique() == 1
    assert (clusters["cluster_id"] == triple["cluster_id"].iloc[0]).sum() == 3
    score = pairwise_scores(clusters, source="agency")[-1]
    assert score.true_pairs > 100
    assert score.precision >= 0.98 and score.recall >= 0.97
    dedup = result.report["deduplication"]
    assert dedup["sources"][0]["name"] == "src"
    assert dedup["sources"][0]["largest"] == 3
    assert dedup["within_clusters"] == result.report["summary"]["within_source_clusters"]
    assert dedup["within_clusters"] == int((clusters.groupby("cluster_id").size() > 1).sum())
    assert any("Declared to hold duplicates: src." in a for a in result.report["assumptions"])


def test_dedup_links_never_pair_a_record_with_itself_or_twice(
    linkage_population, token_table
):
    records = _one_source(linkage_population)
    result = link({"src": token_table(records)}, LinkageConfig(dedup=("src",)))
    links = result.links.to_pandas()
    assert len(links) > 100
    assert (links["pid_a"] != links["pid_b"]).all()
    pairs = {frozenset(p) for p in zip(links["pid_a"], links["pid_b"], strict=True)}
    assert len(pairs) == len(links)


def test_within_candidates_each_unordered_pair_once_without_self_pairs(
    linkage_population, token_table
):
    records = _one_source(linkage_population)
    agencies, keys, _ = prepare({"src": token_table(records)}, dedup=("src",))
    (agency,) = agencies
    found = within_candidates(agency, agency, keys, max_block=500, max_candidates=10**8)
    assert found.count > 100
    assert (found.left_rows < found.right_rows).all()
    codes = found.left_rows * agency.size + found.right_rows
    assert len(np.unique(codes)) == found.count
    with pytest.raises(ValueError):
        other = dataclasses.replace(agency, name="other")
        within_candidates(agency, other, keys, max_block=500, max_candidates=10**8)


def test_within_draws_drop_self_pairs_and_order_each_pair():
    lr = np.array([3, 1, 2, 5, 0])
    rr = np.array([1, 1, 4, 2, 0])
    lo, hi = within_draws(lr, rr, enumerated=False)
    assert lo.tolist() == [1, 2, 2] and hi.tolist() == [3, 4, 5]
    n = 4
    lo, hi = within_draws(np.repeat(np.arange(n), n), np.tile(np.arange(n), n), enumerated=True)
    assert len(lo) == n * (n - 1) // 2 and (lo < hi).all()


def test_one_to_one_agencies_keep_one_record_per_cluster_beside_a_dedup_agency(
    linkage_population, token_table, pid_of
):
    a, b = linkage_population(n_people=300)
    # Agency a (one-to-one) holds near-identical records of one person: never together.
    twin_a = [dict(TRIPLE, record_id="A-T1"), dict(TRIPLE, record_id="A-T2", city="HENRICO")]
    dup_b = [dict(TRIPLE, record_id="B-T1"), dict(TRIPLE, record_id="B-T2", sex="")]
    b_dups = [dict(r, record_id=r["record_id"] + "x") for r in b[:40]]
    a, b = a + twin_a, b + dup_b + b_dups
    result = link({"a": token_table(a), "b": token_table(b)}, LinkageConfig(dedup=("b",)))
    clusters = result.clusters.to_pandas()
    assert not clusters[clusters["agency"] == "a"].duplicated("cluster_id").any()
    cluster = dict(zip(clusters["pid"], clusters["cluster_id"], strict=True))
    assert cluster[pid_of("B-T1")] == cluster[pid_of("B-T2")]
    assert cluster[pid_of("A-T1")] != cluster[pid_of("A-T2")]
    together = [cluster[pid_of(r["record_id"])] == cluster[pid_of(r["record_id"] + "x")]
                for r in b[:40]]
    assert sum(together) >= 38
    scored = _scored(result, a + b, pid_of)
    assert pairwise_scores(scored, source="agency")[-1].f1 >= 0.97


def test_without_dedup_one_source_is_refused_and_a_second_copy_is_not_merged(
    linkage_population, token_table
):
    a, _ = linkage_population(n_people=100)
    with pytest.raises(LinkageError, match="at least two agencies"):
        link({"a": token_table(a)})
    with pytest.raises(LinkageError, match="dedup names an agency"):
        link({"a": token_table(a), "b": token_table(a)}, LinkageConfig(dedup=("c",)))
    result = link({"a": token_table(a), "b": token_table(a)})
    clusters = result.clusters.to_pandas()
    assert clusters.groupby("cluster_id")["agency"].agg(lambda s: s.is_unique).all()
    assert "deduplication" not in result.report


def test_select_links_one_sided_rule_towards_a_one_to_one_agency():
    left = np.array([0, 0, 1, 2])
    right = np.array([5, 6, 5, 5])
    weight = np.array([9.0, 8.0, 7.0, 3.0])
    both = select_links(left, right, weight, left_unique=True, right_unique=True)
    assert both.tolist() == [True, False, False, False]
    # Left may hold duplicates: each left record keeps its best link, right 5 keeps three.
    dup_left = select_links(left, right, weight, left_unique=False, right_unique=True)
    assert dup_left.tolist() == [True, False, True, True]
    # Right may hold duplicates: right 5 keeps its best only, left 0 keeps both.
    dup_right = select_links(left, right, weight, left_unique=True, right_unique=False)
    assert dup_right.tolist() == [True, True, False, False]
    assert select_links(left, right, weight, left_unique=False, right_unique=False).all()


def test_chaining_guard_splits_a_long_chain_at_its_weakest_links():
    n = 20
    agency_of = np.zeros(n, dtype=np.int64)
    src, dst = np.arange(n - 1), np.arange(1, n)
    weight = np.full(n - 1, 10.0)
    weight[[4, 9, 14]] = 1.0  # three weak bridges between four families of five
    unique = np.array([False])
    clustering = cluster_with_duplicates(agency_of, unique, src, dst, weight, max_size=6)
    assert clustering.cluster.tolist() == np.repeat(np.arange(4), 5).tolist()
    assert clustering.links_refused == 3 and clustering.conflicting_components == 1
    untouched = cluster_with_duplicates(agency_of, unique, src, dst, weight, max_size=20)
    assert len(set(untouched.cluster.tolist())) == 1 and untouched.links_refused == 0


def test_chaining_guard_keeps_one_record_of_a_one_to_one_agency():
    agency_of = np.array([0, 1, 1, 0])  # agency 0 one-to-one, agency 1 may hold duplicates
    unique = np.array([True, False])
    src, dst = np.array([0, 1, 2]), np.array([1, 2, 3])
    weight = np.array([9.0, 8.0, 2.0])
    clustering = cluster_with_duplicates(agency_of, unique, src, dst, weight, max_size=12)
    assert clustering.cluster.tolist() == [0, 0, 0, 1]
    assert clustering.link_used.tolist() == [True, True, False]


def test_pairwise_scores_count_pairs_within_a_source():
    import pandas as pd

    frame = pd.DataFrame({
        "source": ["s", "s", "s", "s", "t"],
        "cluster_id": [1, 1, 1, 2, 1],
        "truth_id": ["x", "x", "y", "y", "x"],
    })
    scores = {(s.left, s.right): s for s in pairwise_scores(frame)}
    within = scores[("s", "s")]
    assert (within.true_pairs, within.predicted_pairs, within.true_positives) == (2, 3, 1)
    total = scores[("*", "*")]
    assert total.true_pairs == 2 + 2 and total.predicted_pairs == 3 + 3
