"""Amendments, extensions and renewals of approved agreements (docs/amendments.md): only
the agencies whose terms changed are asked again, the governance quorum always is, the
project keeps its id, salt and history, and a denied proposal leaves the version in force
working."""

from __future__ import annotations

from typing import Any

from hub.persistence import audit as audit_store
from hub.persistence import requests as request_store
from tests.hub.api.amendments_support import (
    _approved,
    _detail,
    _propose,
    _version,
    _versions,
    _with_attendance,
)


def test_amendment_adding_one_agency_variable_reapproved_by_that_agency_and_governance(
        amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, governance = _approved(hub)
    with hub.ctx.session_factory() as session:
        salt = request_store.get_request(session, request_id=project).project_salt
    proposed = _propose(hub, project, researcher,
                        variables=_with_attendance(hub, project, researcher))
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["version"] == 2 and proposed.json()["status"] == "proposed"
    listing = _versions(hub, project, researcher)
    assert listing["status"] == "amending" and listing["in_force"] == 1
    assert listing["agencies_asked"] == ["K12"]
    for token in governance:
        assert hub.review(project, token).status_code == 201
    # HE's approval in force carries over; K12's does not cover the new terms.
    assert _detail(hub, project, researcher)["waiting_for"] == ["agency K12"]
    assert hub.decide(project, "K12").status_code == 200
    detail = _detail(hub, project, researcher)
    assert (detail["id"], detail["status"]) == (project, "approved")
    assert detail["waiting_for"] == []  # HE's carried approval still counts
    assert "attendance" in detail["agreement"]["variables"][0]["variables"]
    after = _versions(hub, project, researcher)
    assert after["in_force"] == 2
    assert [(v["version"], v["status"]) for v in after["versions"]] == [
        (1, "superseded"), (2, "in_force")]
    with hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=project)
        assert request.project_salt == salt  # nodes pinned it: kept
        assert request.approved_round == request.round == 2
        decisions = request_store.agency_decisions(session, request_id=project, round_=2)
    assert [d.agency_code for d in decisions] == ["K12"]  # HE was not asked again


def test_amendment_unchanged_agency_not_asked_again(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, _ = _approved(hub)
    assert _propose(hub, project, researcher,
                    variables=_with_attendance(hub, project, researcher)).status_code == 201

    def pending(agency: str) -> list[str]:
        response = hub.client.get("/v1/node/requests", headers=hub.auth(
            hub.agencies[agency].token))
        assert response.status_code == 200, response.text
        return [r["project_id"] for r in response.json()]

    assert project in pending("K12")
    assert project not in pending("HE")
    waiting = _detail(hub, project, researcher)["waiting_for"]
    assert not [w for w in waiting if "HE" in w]


def test_amendment_governance_quorum_always_asked(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, governance = _approved(hub)
    assert _propose(hub, project, researcher,
                    variables=_with_attendance(hub, project, researcher)).status_code == 201
    assert hub.decide(project, "K12").status_code == 200
    assert hub.status(project, researcher) == "amending"
    assert _detail(hub, project, researcher)["waiting_for"] == [
        "2 more governance approval(s)"]
    assert hub.review(project, governance[0]).status_code == 201
    assert hub.status(project, researcher) == "amending"
    assert hub.review(project, governance[1]).status_code == 201
    assert hub.status(project, researcher) == "approved"


def test_amendment_history_continues_under_same_project_id(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, governance = _approved(hub)
    assert _propose(hub, project, researcher,
                    variables=_with_attendance(hub, project, researcher)).status_code == 201
    hub.decide(project, "K12")
    for token in governance:
        hub.review(project, token)
    diff = hub.client.get(f"/v1/requests/{project}/versions/2/diff",
                          headers=hub.auth(governance[0]))
    assert diff.status_code == 200, diff.text
    assert diff.json() == {"project_id": project, "version": 2, "against": 1, "changes": [
        {"path": "variables[0].variables[2]", "before": None, "after": "attendance"}]}
    first = _version(hub, project, governance[0], 1)
    assert "attendance" not in first["agreement"]["variables"][0]["variables"]
    reviews = _detail(hub, project, governance[0])["reviews"]
    assert sorted({r["round"] for r in reviews}) == [1, 2]
    with hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, project=project, limit=1000)
    actions = [e.action for e in events]
    for action in ("request.created", "request.approved", "request.amendment_proposed",
                   "request.amendment_approved", "request.version_in_force"):
        assert action in actions
    assert actions.index("request.approved") < actions.index("request.amendment_proposed")


def test_denied_amendment_restores_in_force_version_and_project_keeps_working(
        amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, governance = _approved(hub)
    before = _detail(hub, project, researcher)["agreement"]
    assert _propose(hub, project, researcher,
                    variables=_with_attendance(hub, project, researcher)).status_code == 201
    denied = hub.review(project, governance[0], "deny")
    assert denied.status_code == 201, denied.text
    detail = _detail(hub, project, researcher)
    assert detail["status"] == "approved"
    assert detail["agreement"] == before
    assert detail["public_reason"] is None  # the project was not denied, the proposal was
    listing = _versions(hub, project, researcher)
    assert listing["in_force"] == 1
    assert [(v["version"], v["status"]) for v in listing["versions"]] == [
        (1, "in_force"), (2, "denied")]
    with hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=project)
        assert request.approved_round == 1 and request.round == 2
    run = hub.client.post(f"/v1/requests/{project}/runs", headers=hub.auth(governance[0]))
    assert run.status_code == 202, run.text


def test_no_run_starts_while_amending(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, governance = _approved(hub)
    assert _propose(hub, project, researcher,
                    variables=_with_attendance(hub, project, researcher)).status_code == 201
    run = hub.client.post(f"/v1/requests/{project}/runs", headers=hub.auth(governance[0]))
    assert (run.status_code, run.json()["error"]) == (409, "not_runnable")
    again = _propose(hub, project, researcher, title="Another")
    assert (again.status_code, again.json()["error"]) == (409, "not_amendable")


def test_withdrawn_amendment_restores_in_force_version(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, _ = _approved(hub)
    assert _propose(hub, project, researcher, title="A new title").status_code == 201
    assert _detail(hub, project, researcher)["title"] == "A new title"
    public = hub.client.get("/v1/public/projects").json()["approved_projects"]
    # The public sees the version in force, never a proposal under review.
    assert [(p["id"], p["title"], p["status"]) for p in public] == [
        (project, "Early grades and college enrolment", "amending")]
    other = hub.client.post(f"/v1/requests/{project}/amendments/withdraw",
                            headers=hub.auth(hub.token("researcher")))
    assert other.status_code == 404
    withdrawn = hub.client.post(f"/v1/requests/{project}/amendments/withdraw",
                                headers=hub.auth(researcher), json={"reason": "not needed"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    detail = _detail(hub, project, researcher)
    assert (detail["status"], detail["title"]) == ("approved", "Early grades and college "
                                                   "enrolment")
    again = hub.client.post(f"/v1/requests/{project}/amendments/withdraw",
                            headers=hub.auth(researcher))
    assert (again.status_code, again.json()["error"]) == (409, "not_amending")


def test_only_the_projects_researcher_proposes(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, governance = _approved(hub)
    agreement = _version(hub, project, researcher, 1)["agreement"]
    body = {"kind": "amendment", "reason": "why", "agreement": {**agreement, "title": "X"}}
    by_governance = hub.client.post(f"/v1/requests/{project}/amendments",
                                    headers=hub.auth(governance[0]), json=body)
    assert by_governance.status_code == 403
    draft = hub.create_request(researcher)
    not_approved = hub.client.post(f"/v1/requests/{draft}/amendments",
                                   headers=hub.auth(researcher), json=body)
    assert (not_approved.status_code, not_approved.json()["error"]) == (409, "not_amendable")
    unchanged = _propose(hub, project, researcher)
    assert (unchanged.status_code, unchanged.json()["error"]) == (422, "nothing_changed")


def test_steward_reconfirms_in_force_terms_after_denied_amendment(amend_hub: Any) -> None:
    """K12's steward approved the proposal on the node (which then holds its terms); once
    governance denies it, the steward confirms the terms in force again — accepted outside
    review, recorded in the round in force, audited; a denial outside review is not."""
    hub = amend_hub
    project, researcher, governance = _approved(hub)
    assert _propose(hub, project, researcher,
                    variables=_with_attendance(hub, project, researcher)).status_code == 201
    assert hub.decide(project, "K12").status_code == 200
    assert hub.review(project, governance[0], "deny").status_code == 201
    assert hub.status(project, researcher) == "approved"
    confirmed = hub.decide(project, "K12")
    assert confirmed.status_code == 200, confirmed.text
    assert hub.status(project, researcher) == "approved"
    with hub.ctx.session_factory() as session:
        latest = request_store.agency_decisions(session, request_id=project)[-1]
        events, _ = audit_store.search_events(session, action="request.agency_reconfirmed",
                                              project=project, limit=10)
    assert (latest.agency_code, latest.round, latest.decision) == ("K12", 1, "approve")
    assert len(events) == 1 and events[0].agency == "K12"
    denial = hub.decide(project, "HE", "deny")
    assert (denial.status_code, denial.json()["error"]) == (409, "not_under_review")


def test_amendment_dropping_an_agency_is_governance_only_and_its_steward_sees_it_meanwhile(
        amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, governance = _approved(hub)
    he_steward = hub.token("steward", agency="HE")
    variables = _version(hub, project, researcher, 1)["agreement"]["variables"][:1]
    assert _propose(hub, project, researcher, variables=variables).status_code == 201
    # K12's terms do not name the other agencies: nobody's steward is asked again.
    assert _versions(hub, project, researcher)["agencies_asked"] == []
    assert _detail(hub, project, he_steward)["status"] == "amending"  # HE is in force
    for token in governance:
        assert hub.review(project, token).status_code == 201
    assert _detail(hub, project, researcher)["agencies"] == ["K12"]
    gone = hub.client.get(f"/v1/requests/{project}", headers=hub.auth(he_steward))
    assert gone.status_code == 404
