"""Extensions, renewals and the life of an agreement (docs/amendments.md): an extension
only moves term_end later, a renewal needs a renewable agreement and comes before the term
ends, a proposal lapses with the term in force, and a project amended, extended and
renewed keeps one id and its whole history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.persistence import audit as audit_store
from tests.hub.api.amendments_support import (
    _approved,
    _detail,
    _propose,
    _version,
    _versions,
    _with_attendance,
)


def test_extension_only_moves_term_end_later(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, governance = _approved(hub)
    end = dt.date.fromisoformat(_version(hub, project, researcher, 1)["agreement"]["term_end"])
    earlier = _propose(hub, project, researcher, "extension",
                       term_end=str(end - dt.timedelta(days=1)))
    assert (earlier.status_code, earlier.json()["error"]) == (422, "term_not_later")
    more = _propose(hub, project, researcher, "extension",
                    term_end=str(end + dt.timedelta(days=90)), title="Another title")
    assert (more.status_code, more.json()["error"]) == (422, "extension_changes_more")
    amendment = _propose(hub, project, researcher, term_end=str(end + dt.timedelta(days=90)))
    assert (amendment.status_code, amendment.json()["error"]) == (422, "term_changed")
    later = str(end + dt.timedelta(days=90))
    extended = _propose(hub, project, researcher, "extension", term_end=later)
    assert extended.status_code == 201, extended.text
    # The term is part of every agency's terms: both stewards sign the new one.
    assert _versions(hub, project, researcher)["agencies_asked"] == ["HE", "K12"]
    for agency in ("K12", "HE"):
        assert hub.decide(project, agency).status_code == 200
    for token in governance:
        assert hub.review(project, token).status_code == 201
    detail = _detail(hub, project, researcher)
    assert detail["status"] == "approved"
    assert detail["approved_term"]["end"] == later
    assert _versions(hub, project, researcher)["versions"][1]["kind"] == "extension"


def test_renewal_refused_when_not_renewable(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, _ = _approved(hub)
    end = dt.date.fromisoformat(_version(hub, project, researcher, 1)["agreement"]["term_end"])
    refused = _propose(hub, project, researcher, "renewal",
                       term_end=str(end + dt.timedelta(days=365)))
    assert (refused.status_code, refused.json()["error"]) == (409, "not_renewable")
    assert hub.status(project, researcher) == "approved"


def test_renewal_of_renewable_agreement_may_change_more(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, _ = _approved(hub, renewal={"renewable": True,
                                                      "conditions": "one more year"})
    end = dt.date.fromisoformat(_version(hub, project, researcher, 1)["agreement"]["term_end"])
    renewed = _propose(hub, project, researcher, "renewal",
                       term_end=str(end + dt.timedelta(days=365)),
                       variables=_with_attendance(hub, project, researcher))
    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["kind"] == "renewal"


def test_renewal_refused_after_term_end(amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, _ = _approved(hub, days=10, renewal={"renewable": True})
    end = dt.date.fromisoformat(_version(hub, project, researcher, 1)["agreement"]["term_end"])
    hub.clock.offset = dt.timedelta(days=11)
    refused = _propose(hub, project, researcher, "renewal",
                       term_end=str(end + dt.timedelta(days=365)))
    assert (refused.status_code, refused.json()["error"]) == (409, "term_ended")
    with hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action="request.amendment_refused",
                                              project=project, limit=10)
    assert [e.outcome for e in events] == ["refused:term_ended"]


def test_proposal_lapses_when_term_in_force_ends_under_review(amend_hub: Any) -> None:
    from hub.domain.roles import OPERATOR
    from hub.services.requests import expire_due

    hub = amend_hub
    project, researcher, _ = _approved(hub, days=10)
    end = dt.date.fromisoformat(_version(hub, project, researcher, 1)["agreement"]["term_end"])
    assert _propose(hub, project, researcher, "extension",
                    term_end=str(end + dt.timedelta(days=90))).status_code == 201
    hub.clock.offset = dt.timedelta(days=11)
    with hub.ctx.session_factory() as session:
        assert expire_due(session, hub.ctx, OPERATOR) == [project]
    detail = _detail(hub, project, researcher)
    assert detail["status"] == "expired"
    assert detail["agreement"]["term_end"] == str(end)  # the version in force, not the proposal
    assert [v["status"] for v in _versions(hub, project, researcher)["versions"]] == [
        "in_force", "withdrawn"]


def test_project_amended_extended_and_renewed_through_its_life_keeps_its_history(
        amend_hub: Any) -> None:
    hub = amend_hub
    project, researcher, governance = _approved(hub, renewal={"renewable": True})

    def decide(*agencies: str) -> None:
        for agency in agencies:
            assert hub.decide(project, agency).status_code == 200
        for token in governance:
            assert hub.review(project, token).status_code == 201
        assert hub.status(project, researcher) == "approved"

    def current() -> dict[str, Any]:
        listing = _versions(hub, project, researcher)
        return _version(hub, project, researcher, listing["in_force"])["agreement"]

    end = dt.date.fromisoformat(current()["term_end"])
    assert _propose(hub, project, researcher, "extension",
                    term_end=str(end + dt.timedelta(days=30))).status_code == 201
    assert _versions(hub, project, researcher)["agencies_asked"] == ["HE", "K12"]
    decide("HE", "K12")
    body = current()
    body["variables"][0]["variables"].append("attendance")
    amended = hub.client.post(f"/v1/requests/{project}/amendments",
                              headers=hub.auth(researcher),
                              json={"kind": "amendment", "reason": "attendance",
                                    "agreement": body})
    assert amended.status_code == 201, amended.text
    # HE's approval in force is the one it signed in the extension round: carried over.
    assert _versions(hub, project, researcher)["agencies_asked"] == ["K12"]
    decide("K12")
    renewal = {**current(), "term_end": str(end + dt.timedelta(days=400))}
    renewed = hub.client.post(f"/v1/requests/{project}/amendments",
                              headers=hub.auth(researcher),
                              json={"kind": "renewal", "reason": "phase two",
                                    "agreement": renewal})
    assert renewed.status_code == 201, renewed.text
    decide("HE", "K12")
    listing = _versions(hub, project, researcher)
    assert [(v["version"], v["kind"], v["status"]) for v in listing["versions"]] == [
        (1, "original", "superseded"), (2, "extension", "superseded"),
        (3, "amendment", "superseded"), (4, "renewal", "in_force")]
    assert {v["project_id"] for v in listing["versions"]} == {project}
    assert _detail(hub, project, researcher)["approved_term"]["end"] == str(
        end + dt.timedelta(days=400))
    diff = hub.client.get(f"/v1/requests/{project}/versions/3/diff",
                          headers=hub.auth(researcher)).json()
    assert diff["against"] == 2 and [c["path"] for c in diff["changes"]] == [
        "variables[0].variables[2]"]
