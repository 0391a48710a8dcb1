"""``plan_persons`` and agencies a run deduplicated: several pids of such an agency in one
cluster are one person (one project person id for all of them); two pids of an agency the
run linked one-to-one in one cluster are still ``run_inconsistent``."""

from __future__ import annotations

import pytest

from hub.errors import ExtractBuildError
from hub.extracts.assembly import AgencyScope, extract_requests, persons_table, plan_persons

#: Cluster 1: one person with two K12 ids and one HE record; cluster 2: K12 + HE;
#: cluster 3: two K12 ids and nobody else; cluster 4: an HE record alone.
CLUSTERS = [("K12", "pid-k-ax", 1), ("K12", "pid-k-bx", 1), ("HE", "pid-h-ax", 1),
            ("K12", "pid-k-cx", 2), ("HE", "pid-h-cx", 2),
            ("K12", "pid-k-dx", 3), ("K12", "pid-k-ex", 3),
            ("HE", "pid-h-fx", 4)]


def test_deduplicated_agency_pids_of_one_cluster_share_one_person_id() -> None:
    plan = plan_persons(CLUSTERS, agencies=["K12", "HE"], include_unmatched=False,
                        deduplicated=["K12"])
    person = plan.person_of[("K12", "pid-k-ax")]
    assert plan.person_of[("K12", "pid-k-bx")] == person == plan.person_of[("HE", "pid-h-ax")]
    assert plan.agencies_of[person] == ("HE", "K12")  # each agency once
    assert plan.person_of[("K12", "pid-k-cx")] == plan.person_of[("HE", "pid-h-cx")] != person
    # Two ids of one agency and no other agency: not linked across agencies.
    assert ("K12", "pid-k-dx") not in plan.person_of and ("HE", "pid-h-fx") not in plan.person_of
    assert len(plan.persons) == 2
    # The node is asked for both of that person's pids under the one person id.
    assert sorted(plan.assignments("K12")) == sorted(
        [("pid-k-ax", person), ("pid-k-bx", person),
         ("pid-k-cx", plan.person_of[("K12", "pid-k-cx")])])
    table = persons_table(plan, ["K12", "HE"])
    assert table.loc[table["person_id"] == person, "n_agencies"].item() == 2


def test_deduplicated_agency_with_unmatched_released_keeps_its_duplicates_together() -> None:
    plan = plan_persons(CLUSTERS, agencies=["K12", "HE"], include_unmatched=True,
                        deduplicated=["K12"])
    assert plan.person_of[("K12", "pid-k-dx")] == plan.person_of[("K12", "pid-k-ex")]
    assert plan.agencies_of[plan.person_of[("K12", "pid-k-dx")]] == ("K12",)
    assert len(plan.persons) == 4


def test_extract_request_pairs_two_pids_with_one_person_id() -> None:
    plan = plan_persons(CLUSTERS, agencies=["K12", "HE"], include_unmatched=False,
                        deduplicated=["K12"])
    scopes = {"K12": AgencyScope(variables=("grade",), first_year=2019, last_year=2020),
              "HE": AgencyScope(variables=("degree",), first_year=2019, last_year=2020)}
    requests = extract_requests(plan, project_id="P-1", run_id="R-1", scopes=scopes,
                                recipient_kid="x25519:" + "a" * 32)
    k12 = next(r for r in requests if r.agency == "K12")
    people = [person for _pid, person in k12.assignments]
    assert len(k12.assignments) == 3 and len(set(people)) == 2


@pytest.mark.parametrize("deduplicated", [(), ("HE",)], ids=["none", "another_agency"])
def test_two_pids_of_a_one_to_one_agency_in_one_cluster_refused(
        deduplicated: tuple[str, ...]) -> None:
    with pytest.raises(ExtractBuildError) as caught:
        plan_persons(CLUSTERS, agencies=["K12", "HE"], include_unmatched=False,
                     deduplicated=deduplicated)
    assert caught.value.code == "run_inconsistent"


def test_deduplicated_agency_does_not_excuse_another_agencys_repeats() -> None:
    clusters = [("K12", "pid-k-ax", 1), ("K12", "pid-k-bx", 1),
                ("HE", "pid-h-ax", 1), ("HE", "pid-h-bx", 1)]
    with pytest.raises(ExtractBuildError) as caught:
        plan_persons(clusters, agencies=["K12", "HE"], include_unmatched=False,
                     deduplicated=["K12"])
    assert caught.value.code == "run_inconsistent"
