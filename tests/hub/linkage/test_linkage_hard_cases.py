"""Hard cases the encoding-side keys and the engine's comparisons were built for, and the
term-frequency adjustment and reach measure behind them (docs/linkage.md)."""

from __future__ import annotations

import numpy as np
import pytest

from hub.linkage import LinkageConfig, link
from hub.linkage.candidates import Candidates
from hub.linkage.compare import FeatureSpec
from hub.linkage.em import FSModel
from hub.linkage.evaluate import reachable_pairs
from hub.linkage.frequency import tf_adjustments
from hub.linkage.tokens import prepare

LEVELS = ("missing", "dice<0.5", "dice≥0.5", "dice≥0.7", "dice≥0.85", "dice≥0.95")


def _cluster_of(result) -> dict[str, int]:
    frame = result.clusters.to_pandas()
    return dict(zip(frame["pid"], frame["cluster_id"], strict=True))


@pytest.fixture
def run(token_table):
    def go(a, b, **config):
        return link({"a": token_table(a), "b": token_table(b)}, LinkageConfig(**config))

    return go


def test_wrong_birth_date_digit_with_same_names_and_zip_links_on_node_keys(
    linkage_population, run, pid_of
):
    # FEBRL-like: one birth-date digit wrong, no SSN; same names, house number and ZIP.
    one = {"first_name": "Evangeline", "last_name": "Okonkwo", "dob": "1996-02-23", "sex": "F",
           "street_address": "77 QUARRY BEND RD", "city": "STAUNTON", "postal_code": "24401",
           "record_id": "AW"}
    two = dict(one, dob="1969-02-23", street_address="77 QUARY BEND ROAD", record_id="BW")
    a, b = linkage_population(extra_a=[one], extra_b=[two])
    # Without the hub's Bloom-equality keys: the date-free node keys alone reach the pair.
    cluster = _cluster_of(run(a, b, bloom_blocking=()))
    assert cluster[pid_of("AW")] == cluster[pid_of("BW")]


def test_first_and_last_name_swapped_with_a_typo_links(linkage_population, run, pid_of):
    one = {"first_name": "Cassandra", "last_name": "Wembley", "dob": "1990-03-10", "sex": "F",
           "street_address": "15 WENTWORTH AVE", "postal_code": "23188", "record_id": "AF"}
    two = dict(one, first_name="Wembley", last_name="Cassondra", record_id="BF")
    a, b = linkage_population(extra_a=[one], extra_b=[two])
    cluster = _cluster_of(run(a, b))
    assert cluster[pid_of("AF")] == cluster[pid_of("BF")]


def test_same_sex_twins_with_one_initial_stay_apart(linkage_population, run, pid_of):
    # Same surname, birth date, sex, address and first initial: the initial-bearing keys
    # make them candidates; first and middle names keep them apart.
    home = {"last_name": "Kowalczyk", "dob": "2003-09-17", "sex": "M", "city": "RICHMOND",
            "street_address": "4411 JUNIPER HOLLOW CT", "postal_code": "23220"}
    twins = [dict(home, first_name="Michael", middle_name="Anton", record_id="T1"),
             dict(home, first_name="Matthew", middle_name="Pawel", record_id="T2")]
    a, b = linkage_population(
        extra_a=[dict(t, record_id="A" + t["record_id"]) for t in twins],
        extra_b=[dict(t, record_id="B" + t["record_id"]) for t in twins],
    )
    cluster = _cluster_of(run(a, b))
    assert cluster[pid_of("AT1")] == cluster[pid_of("BT1")]
    assert cluster[pid_of("AT2")] == cluster[pid_of("BT2")]
    assert cluster[pid_of("AT1")] != cluster[pid_of("AT2")]


def test_hub_name_key_reaches_a_pair_that_shares_no_token(linkage_population, token_table):
    # Same names, wrong birth date, moved, no SSN: no node token in common, only the
    # hub's identical-name Bloom key makes it a candidate.
    one = {"first_name": "Evangeline", "last_name": "Okonkwo", "dob": "1996-02-23",
           "street_address": "77 QUARRY BEND RD", "postal_code": "24401", "record_id": "AW",
           "truth_id": "W"}
    two = dict(one, dob="1981-11-05", street_address="3 ELM ST", postal_code="22030",
               record_id="BW")
    a, b = linkage_population(n_people=40, extra_a=[one], extra_b=[two])
    tables = {"a": token_table(a), "b": token_table(b)}
    truth = {"a": [r["truth_id"] for r in a], "b": [r["truth_id"] for r in b]}
    with_key = reachable_pairs(tables, truth)[0]
    without = reachable_pairs(tables, truth, LinkageConfig(bloom_blocking=()))[0]
    assert with_key.by_all_keys == without.by_node_keys + 1
    assert with_key.true_pairs == without.true_pairs
    assert 0 < with_key.node_share <= with_key.share <= 1


def test_rare_shared_name_weighs_more_than_a_common_one(token_table):
    common = [{"first_name": "James", "last_name": f"Surname{i}"} for i in range(30)]
    a = token_table([*common, {"first_name": "Zebulon", "last_name": "Ek"}], "A")
    b = token_table([{"first_name": "James", "last_name": "Other"},
                     {"first_name": "Zebulon", "last_name": "Other"}], "B")
    agencies, _, _ = prepare({"a": a, "b": b})
    spec = FeatureSpec("first_name", "field", LEVELS)
    u_top = 0.01
    model = FSModel((spec,), (np.full(6, 0.5),), (np.array([np.nan, 0.9, 0.03, 0.03, 0.03,
                                                             u_top]),), 1e-4, "em", 1, True)
    # Pairs: (James_0, James), (Zebulon, Zebulon), (James_0, Zebulon) — all at the top level.
    found = [Candidates("a", "b", np.array([0, 30, 0]), np.array([0, 1, 1]))]
    levels = np.array([[5], [5], [5]], dtype=np.int8)
    adjustment = tf_adjustments(agencies, [(0, 1)], found, levels, model)
    # James: 31 of 33 first names; Zebulon: 2 of 33.
    assert adjustment[0] == pytest.approx(np.log2(u_top / (31 / 33)))
    assert adjustment[1] == pytest.approx(np.log2(u_top / (2 / 33)))
    assert adjustment[2] == 0.0  # different names: no exact agreement to adjust
    assert adjustment[1] > adjustment[0]
