"""The demo's scoring against the synthetic truth at person grain
(``fedlink.demo.evaluation``): with longitudinal files a unit is an agency person, so the
truth is taken per (agency, person id), whichever of the person's rows the node remembered.
"""

from __future__ import annotations

import pandas as pd
import pytest

from fedlink.demo.evaluation import units_with_truth
from fedlink.demo.federation import AGENCIES
from hub.linkage.evaluate import pairwise_scores

K12, _HE, WF = AGENCIES


def _truth(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_id", "person_id", "truth_id"])


def _units(rows: list[tuple[str, int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "cluster_id", "record_id", "person_id"])


def testunits_with_truth_longitudinal_takes_the_truth_of_the_person_id() -> None:
    truth = _truth([("K12-1", "S1", "7"), ("K12-2", "S1", "7"), ("K12-3", "S2", "8")])
    units = _units([("K12", 1, "K12-2", "S1"), ("K12", 2, "K12-3", "S2")])
    scored = units_with_truth(K12, units, truth, longitudinal=True)
    assert list(scored["truth_id"]) == ["7", "8"]


def testunits_with_truth_two_ids_of_one_person_are_a_true_pair_inside_the_agency() -> None:
    """A re-registered student: two person ids, one true person — a true pair within K-12
    that a one-to-one linkage leaves apart, so recall shows the loss."""
    k12 = units_with_truth(K12, _units([("K12", 1, "K12-1", "S1"), ("K12", 2, "K12-9", "S9")]),
                       _truth([("K12-1", "S1", "7"), ("K12-9", "S9", "7")]), longitudinal=True)
    wf = units_with_truth(WF, _units([("WF", 1, "UI-1", "C1")]), _truth([("UI-1", "C1", "7")]),
                      longitudinal=True)
    scores = {(s.left, s.right): s for s in pairwise_scores(pd.concat([k12, wf]))}
    assert scores[("K12", "K12")].true_pairs == 1
    assert scores[("K12", "K12")].true_positives == 0
    assert (scores[("K12", "WF")].true_pairs, scores[("K12", "WF")].true_positives) == (2, 1)


def testunits_with_truth_person_id_sent_twice_refused() -> None:
    truth = _truth([("K12-1", "S1", "7"), ("K12-2", "S1", "7")])
    units = _units([("K12", 1, "K12-1", "S1"), ("K12", 1, "K12-2", "S1")])
    with pytest.raises(ValueError, match="sent rows, not persons"):
        units_with_truth(K12, units, truth, longitudinal=True)


def testunits_with_truth_person_id_of_two_true_people_refused() -> None:
    truth = _truth([("K12-1", "S1", "7"), ("K12-2", "S1", "8")])
    with pytest.raises(ValueError, match="held by two true people"):
        units_with_truth(K12, _units([("K12", 1, "K12-1", "S1")]), truth, longitudinal=True)


def testunits_with_truth_without_person_ids_scores_records() -> None:
    truth = pd.DataFrame([("K12-1", "7"), ("K12-2", "8")], columns=["record_id", "truth_id"])
    units = pd.DataFrame([("K12", 1, "K12-2")], columns=["source", "cluster_id", "record_id"])
    assert list(units_with_truth(K12, units, truth, longitudinal=False)["truth_id"]) == ["8"]


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_offline_quality_longitudinal_scores_each_agency_person_once(tmp_path) -> None:
    """Without a hub run the demo links each agency person's newest row offline, so the
    offline score is per person too, not per school year or quarter."""
    from types import SimpleNamespace

    from fedlink.demo.evaluation import offline_quality
    from fedlink.demo.federation import Layout
    from fedlink.demo.processes import Commands

    layout = Layout(tmp_path)
    layout.logs.mkdir()
    commands = Commands(layout.logs / "commands.log")
    staging = tmp_path / "synth"
    commands.run("synth", "--people", "200", "--seed", "3", "--longitudinal", "--out",
                 str(staging), who="test")
    persons = 0
    for agency in AGENCIES:
        layout.node(agency).mkdir(parents=True)
        (staging / agency.source).rename(layout.source(agency))
        persons += pd.read_csv(layout.source(agency), dtype=str)[agency.person_id].nunique()
    demo = SimpleNamespace(layout=layout, longitudinal=True,
                           fedlink=lambda *args, who, env=None: commands.run(
                               *args, who=who, env=env).stdout)
    quality = offline_quality(demo)
    assert (quality.records, quality.unit) == (persons, "agency persons")
    overall = quality.scores[-1]
    assert overall.precision > 0.9 and overall.recall > 0.8
