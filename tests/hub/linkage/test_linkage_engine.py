"""The engine end to end on token tables made by the node's own encoding."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from hub.linkage import CLUSTERS_SCHEMA, LINKS_SCHEMA, LinkageConfig, LinkageError, link
from hub.linkage.evaluate import pairwise_scores

TWIN = {
    "last_name": "KOWALCZYK",
    "dob": "2003-09-17",
    "sex": "M",
    "street_address": "4411 JUNIPER HOLLOW CT",
    "city": "RICHMOND",
    "postal_code": "23220",
}


def _cluster_of(result) -> dict[str, int]:
    frame = result.clusters.to_pandas()
    return dict(zip(frame["pid"], frame["cluster_id"], strict=True))


@pytest.fixture
def run(token_table):
    def go(a, b, **config):
        return link({"a": token_table(a), "b": token_table(b)}, LinkageConfig(**config))

    return go


def test_background_population_links_accurately(linkage_population, run, pid_of):
    a, b = linkage_population()
    result = run(a, b)
    clusters = result.clusters.to_pandas()
    truth = {pid_of(r["record_id"]): r["truth_id"] for r in a + b}
    clusters["truth_id"] = clusters["pid"].map(truth)
    score = pairwise_scores(clusters.rename(columns={"agency": "source"}))[0]
    assert score.precision >= 0.99 and score.recall >= 0.97


def test_exact_twins_with_different_first_names_stay_apart(linkage_population, run, pid_of):
    twins = [dict(TWIN, first_name="MICHAEL", record_id="T1"),
             dict(TWIN, first_name="DANIEL", record_id="T2")]
    a, b = linkage_population(
        extra_a=[dict(t, record_id="A" + t["record_id"]) for t in twins],
        extra_b=[dict(t, record_id="B" + t["record_id"]) for t in twins],
    )
    cluster = _cluster_of(run(a, b))
    assert cluster[pid_of("AT1")] == cluster[pid_of("BT1")]
    assert cluster[pid_of("AT2")] == cluster[pid_of("BT2")]
    assert cluster[pid_of("AT1")] != cluster[pid_of("AT2")]


def test_nickname_typo_and_move_still_link(linkage_population, run, pid_of):
    before = {"first_name": "William", "last_name": "Harrington", "dob": "1998-06-21",
              "sex": "M", "street_address": "12 OLD MILL RD", "city": "NORFOLK",
              "postal_code": "23510", "record_id": "AX"}
    after = {"first_name": "Bill", "last_name": "Harington", "dob": "06/21/1998",
             "sex": "M", "street_address": "7781 SEAVIEW AVE", "city": "ROANOKE",
             "postal_code": "24011", "record_id": "BX"}
    a, b = linkage_population(extra_a=[before], extra_b=[after])
    cluster = _cluster_of(run(a, b))
    assert cluster[pid_of("AX")] == cluster[pid_of("BX")]


def test_day_month_swap_links(linkage_population, run, pid_of):
    one = {"first_name": "Maria", "last_name": "Castellanos", "dob": "2004-03-07", "sex": "F",
           "street_address": "9 BIRCH LN", "postal_code": "22030", "record_id": "AS"}
    two = dict(one, dob="2004-07-03", record_id="BS")
    a, b = linkage_population(extra_a=[one], extra_b=[two])
    cluster = _cluster_of(run(a, b))
    assert cluster[pid_of("AS")] == cluster[pid_of("BS")]


def test_every_row_exactly_once_and_one_record_per_agency_per_cluster(
    linkage_population, token_table
):
    a, b = linkage_population(n_people=200)
    c = [dict(r, record_id=f"C{i}") for i, r in enumerate(a[:80])]
    result = link(
        {"a": token_table(a), "b": token_table(b), "c": token_table(c)}, LinkageConfig()
    )
    assert result.clusters.schema.equals(CLUSTERS_SCHEMA)
    assert result.links.schema.equals(LINKS_SCHEMA)
    frame = result.clusters.to_pandas()
    assert len(frame) == len(a) + len(b) + len(c)
    assert not frame.duplicated(["agency", "pid"]).any()
    assert not frame.duplicated(["agency", "cluster_id"]).any()
    links = result.links.to_pandas()
    assert (links["probability"] >= 0.5).all()
    # Every link joins two records of one cluster.
    cid = dict(zip(zip(frame["agency"], frame["pid"], strict=True), frame["cluster_id"],
                   strict=True))
    for row in links.itertuples():
        assert cid[(row.agency_a, row.pid_a)] == cid[(row.agency_b, row.pid_b)]
    json.dumps(result.report)  # JSON-ready


def test_huge_block_is_capped_and_reported_not_expanded(linkage_population, run, pid_of):
    a, b = linkage_population(n_people=150)
    crowd = {"first_name": "ALEX", "last_name": "DOE", "dob": "2001-01-01", "sex": "M"}
    a += [dict(crowd, record_id=f"AC{i}") for i in range(120)]
    b += [dict(crowd, record_id=f"BC{i}") for i in range(120)]
    result = run(a, b, max_block=50)
    report = result.report
    assert report["summary"]["capped_blocks"] >= 1
    capped = {c["key"] for c in report["capped_blocks"]}
    assert "mk_name_dob_sex" in capped
    entry = next(c for c in report["capped_blocks"] if c["key"] == "mk_name_dob_sex")
    assert entry["largest_block"] == [120, 120]
    assert entry["reason"] == "max_block"
    # 120 x 120 crowd pairs were never formed.
    assert report["summary"]["candidates"] < 120 * 120
    assert len(result.clusters) == len(a) + len(b)


def test_pair_budget_skips_largest_blocks_and_reports_them(linkage_population, run, pid_of):
    a, b = linkage_population(n_people=100)
    result = run(a, b, max_candidates=20)
    reasons = {c["reason"] for c in result.report["capped_blocks"]}
    assert "pair_budget" in reasons
    assert all(p["raw_pairs"] <= 20 for p in result.report["pairs"])


def test_no_shared_token_gives_all_singletons(token_table):
    a = token_table([{"first_name": "ANNA", "last_name": "BELL", "dob": "2000-01-02"}], "A")
    b = token_table([{"first_name": "OTTO", "last_name": "KRUG", "dob": "1990-05-06"}], "B")
    result = link({"a": a, "b": b})
    assert len(result.links) == 0
    assert sorted(result.clusters.column("cluster_id").to_pylist()) == [0, 1]
    assert result.report["summary"]["candidates"] == 0


def _keyed(pids: list[str]) -> pa.Table:
    tokens = pa.array([[]] * len(pids), pa.list_(pa.binary(16)))
    return pa.table({"pid": pids, "mk_rule": tokens})


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"a": _keyed(["x"])}, "at least two agencies"),
        ({"a": pa.table({"x": ["1"]}), "b": _keyed(["y"])}, "no pid column"),
        ({"a": _keyed(["x", "x"]), "b": _keyed(["y"])}, "repeats a pid"),
        ({"a": pa.table({"pid": ["x"]}), "b": pa.table({"pid": ["y"]})}, "no match-key"),
        (
            {"a": pa.table({"pid": ["x"], "mk_rule": [1]}), "b": _keyed(["y"])},
            "expected a list of 16-byte tokens",
        ),
    ],
)
def test_unlinkable_tables_refused(tables, message):
    with pytest.raises(LinkageError, match=message):
        link(tables)


def test_method_ecm_runs_and_reports_its_method(linkage_population, run, pid_of):
    a, b = linkage_population(n_people=150)
    result = run(a, b, method="ecm", u_source="candidates")
    assert result.model.method == "ecm"
    assert result.report["model"]["method"] == "ecm"
    weights = [f["levels"][-1]["weight"] for f in result.report["model"]["features"]]
    assert np.isfinite(weights).all()
