"""The quality report (JSON and HTML) and the evaluation helper."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from hub.linkage import LinkageConfig, link, render_html
from hub.linkage.candidates import Candidates
from hub.linkage.evaluate import format_scores, pairwise_scores
from hub.linkage.report import PairOutcome, expected_matches


def _outcome(left_rows, right_rows, probability, n_left=3, n_right=3):
    cand = Candidates("a", "b", np.asarray(left_rows), np.asarray(right_rows))
    p = np.asarray(probability, dtype=float)
    linked = p >= 0.5
    return PairOutcome("a", "b", n_left, n_right, cand, np.log2(p / (1 - p)), p, linked,
                       linked.copy(), linked.copy())


def test_expected_matches_cap_each_record_at_one_partner():
    # Record a0 has two plausible partners; it can be matched once at most.
    out = _outcome([0, 0, 1], [0, 1, 2], [0.9, 0.8, 0.6])
    assert expected_matches(out) == pytest.approx(1.0 + 0.6)


def test_report_counts_rates_completeness_and_is_json(linkage_population, token_table):
    a, b = linkage_population(n_people=200)
    res = link({"a": token_table(a), "b": token_table(b)}, LinkageConfig())
    report = json.loads(json.dumps(res.report))
    summary = report["summary"]
    assert summary["records"] == len(a) + len(b)
    assert summary["links"] == len(res.links)
    assert 0.9 < summary["estimated_precision"] <= 1.0
    assert 0.9 < summary["estimated_recall"] <= 1.0
    (pair,) = report["pairs"]
    assert pair["co_clustered"] == summary["links"]
    assert pair["match_rate"][0] == pytest.approx(pair["co_clustered"] / len(a), abs=1e-6)
    agencies = {x["name"]: x for x in report["agencies"]}
    # About 30 % of the records have no SSN (see the factory).
    assert 0.55 < agencies["a"]["completeness"]["bk_ssn"] < 0.85
    assert agencies["a"]["completeness"]["bf_first_name"] == 1.0
    hist = report["weights"]
    assert sum(hist["candidates"]) == summary["candidates"]
    assert sum(hist["links"]) == summary["links"]
    assert len(hist["bin_edges"]) == len(hist["candidates"]) + 1
    levels = {f["name"]: f["levels"] for f in report["model"]["features"]}
    assert levels["dob"][0]["m"] is None  # missing is ignored, not estimated
    assert levels["dob"][-1]["weight"] > 5
    assert levels["first_name"][-1]["weight"] > 5
    assert report["assumptions"]


def test_html_report_is_self_contained_and_readable(linkage_population, token_table):
    a, b = linkage_population(n_people=120)
    crowd = {"first_name": "ALEX", "last_name": "DOE", "dob": "2001-01-01", "sex": "M"}
    a += [dict(crowd, record_id=f"AC{i}") for i in range(30)]
    b += [dict(crowd, record_id=f"BC{i}") for i in range(30)]
    res = link({"a": token_table(a), "b": token_table(b)}, LinkageConfig(max_block=20))
    html = render_html(res.report, title="Run <1>")
    assert html.startswith("<!DOCTYPE html>")
    assert "Run &lt;1&gt;" in html  # escaped
    assert "<svg" in html and "Capped blocks" in html and "mk_name_dob_sex" in html
    # Nothing fetched from anywhere: no scripts, no external sources or stylesheets.
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    # Never a pid.
    assert res.clusters.column("pid")[0].as_py() not in html


def test_pairwise_scores_count_pairs_by_group_sizes():
    frame = pd.DataFrame(
        {
            "source": ["a", "a", "a", "b", "b", "b", "c"],
            "cluster_id": [1, 2, 3, 1, 2, 4, 1],
            "truth_id": ["x", "y", "z", "x", "z", "y", "x"],
        }
    )
    scores = {(s.left, s.right): s for s in pairwise_scores(frame)}
    ab = scores[("a", "b")]
    assert (ab.true_pairs, ab.predicted_pairs, ab.true_positives) == (3, 2, 1)
    assert ab.precision == 0.5 and ab.recall == pytest.approx(1 / 3)
    ac = scores[("a", "c")]
    assert (ac.precision, ac.recall, ac.f1) == (1.0, 1.0, 1.0)
    total = scores[("*", "*")]
    assert total.true_pairs == 3 + 1 + 1
    assert "all pairs" in format_scores(list(scores.values()))


def test_pairwise_scores_treat_missing_truth_as_unmatched():
    frame = pd.DataFrame(
        {"source": ["a", "b"], "cluster_id": [1, 1], "truth_id": ["", None]}
    )
    (ab, _) = pairwise_scores(frame)
    assert (ab.true_pairs, ab.predicted_pairs, ab.true_positives) == (0, 1, 0)
    assert ab.precision == 0.0


def test_expected_matches_no_cap_towards_an_agency_that_holds_duplicates():
    # b0 truly matches a0 and a1: two ids of one person in agency "a", which may hold
    # duplicates. Capping b0 at one partner would make two correct links exceed the
    # expected matches (estimated recall above 1).
    out = _outcome([0, 1], [0, 0], [0.9, 0.9])
    assert expected_matches(out) == pytest.approx(1.0)
    assert expected_matches(out, frozenset({"a"})) == pytest.approx(1.8)
    # The other side still has one partner at most in a one-to-one agency.
    out = _outcome([0, 0], [0, 1], [0.9, 0.9])
    assert expected_matches(out, frozenset({"a"})) == pytest.approx(1.0)
