"""Drafting and editing requests: bad input refused with a reason, nothing half-written,
visibility limited to who may see a request, illegal transitions 409."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.db.models import AuditEvent, Request


def _counts(hub) -> tuple[int, int]:
    with hub.ctx.session_factory() as session:
        return (session.scalar(select(func.count()).select_from(Request)),
                session.scalar(select(func.count()).select_from(AuditEvent)))


def _post(hub, token, **kwargs):
    headers = {**hub.auth(token), **kwargs.pop("headers", {})}
    return hub.client.post("/v1/requests", headers=headers, **kwargs)


@pytest.fixture
def researcher(hub) -> str:
    return hub.token("researcher")


def test_malformed_json_refused(hub, researcher) -> None:
    response = _post(hub, researcher, content=b'{"title": ',
                     headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(("change", "expected"), [
    ({"favourite_colour": "blue"}, "favourite_colour: Extra inputs are not permitted"),
    ({"security_plan": None}, "security_plan"),
    ({"term_start": "2027-01-01", "term_end": "2026-01-01"}, "term_end (2026-01-01) must be "
     "after term_start (2027-01-01)"),
    ({"term_start": "2026-02-30"}, "term_start"),
    ({"disposition": "keep"}, "disposition"),
    ({"irb": {"status": "approved"}}, "needs board, protocol_number, approval_date"),
    ({"variables": [{"agency": "K12", "variables": ["ssn"], "first_year": 2018,
                     "last_year": 2019}]}, "identity field"),
])
def test_bad_agreement_refused_naming_the_problem(hub, researcher, change, expected) -> None:
    before = _counts(hub)
    body = hub.agreement(**change)
    body = {k: v for k, v in body.items() if v is not None}
    response = _post(hub, researcher, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert expected in response.json()["detail"]
    assert _counts(hub)[0] == before[0]


def test_missing_required_field_named(hub, researcher) -> None:
    body = hub.agreement()
    del body["interim_findings_plan"]
    response = _post(hub, researcher, json=body)
    assert response.status_code == 422
    assert "interim_findings_plan: Field required" in response.json()["detail"]


@pytest.mark.parametrize(("variables", "expected"), [
    ([{"agency": "K12", "variables": ["shoe_size"], "first_year": 2018, "last_year": 2019}],
     "variable 'shoe_size' is not in the catalog of agency K12"),
    ([{"agency": "DMV", "variables": ["grade"], "first_year": 2018, "last_year": 2019}],
     "agency 'DMV' does not exist"),
    ([{"agency": "K12", "variables": ["grade"], "first_year": 2010, "last_year": 2016}],
     "agency K12 has no 'grade' for year(s) 2010, 2011, 2012, 2013, 2014"),
])
def test_variables_not_in_catalog_refused_and_nothing_written(hub, researcher, variables,
                                                              expected) -> None:
    before = _counts(hub)
    response = _post(hub, researcher, json=hub.agreement(variables=variables))
    assert response.status_code == 422
    assert expected in response.json()["detail"]
    assert _counts(hub) == before


def test_agency_not_yet_enrolled_refused(hub, researcher) -> None:
    hub.client.post("/v1/agencies", headers=hub.auth(hub.admin_token),
                    json={"code": "DSS", "name": "Social services", "url": "http://dss"})
    variables = [{"agency": "DSS", "variables": ["benefit"], "first_year": 2018,
                  "last_year": 2019}]
    response = _post(hub, researcher, json=hub.agreement(variables=variables))
    assert response.status_code == 422
    assert "has not enrolled" in response.json()["detail"]


def test_researcher_sees_only_own_requests(hub, researcher) -> None:
    mine = hub.create_request(researcher)
    other = hub.token("researcher")
    theirs = hub.create_request(other)
    assert hub.client.get(f"/v1/requests/{theirs}", headers=hub.auth(researcher)).status_code == 404
    listed = hub.client.get("/v1/requests", headers=hub.auth(researcher)).json()
    assert [r["id"] for r in listed] == [mine]
    for action in ("submit", "withdraw"):
        assert hub.client.post(f"/v1/requests/{theirs}/{action}",
                               headers=hub.auth(researcher)).status_code == 404
    patch = hub.client.patch(f"/v1/requests/{theirs}", json={"title": "Mine now"},
                             headers=hub.auth(researcher))
    assert patch.status_code == 404


def test_drafts_are_private_and_stewards_see_their_agency_only(hub, researcher) -> None:
    draft = hub.create_request(researcher)
    governance = hub.token("governance")
    assert hub.client.get(f"/v1/requests/{draft}", headers=hub.auth(governance)).status_code == 404
    he_only = hub.submitted_request(researcher, variables=[
        {"agency": "HE", "variables": ["enrolled"], "first_year": 2018, "last_year": 2019}],
        agency_contacts=[{"agency": "HE", "name": "H E", "email": "he@he.example"}])
    steward = hub.token("steward", agency="K12")
    assert hub.client.get(f"/v1/requests/{he_only}", headers=hub.auth(steward)).status_code == 404
    both = hub.submitted_request(researcher)
    listed = hub.client.get("/v1/requests", headers=hub.auth(steward)).json()
    assert [r["id"] for r in listed] == [both]
    assert hub.client.get(f"/v1/requests/{both}", headers=hub.auth(steward)).status_code == 200


def test_viewing_a_request_is_audited(hub, researcher) -> None:
    request_id = hub.create_request(researcher)
    hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher))
    events = hub.client.get(f"/v1/audit/events?project={request_id}&action=request.viewed",
                            headers=hub.auth(hub.token("auditor"))).json()["events"]
    assert len(events) == 1 and events[0]["role"] == "researcher"


def test_edit_after_submission_refused(hub, researcher) -> None:
    request_id = hub.submitted_request(researcher)
    response = hub.client.patch(f"/v1/requests/{request_id}", json={"title": "Late change"},
                                headers=hub.auth(researcher))
    assert response.status_code == 409
    assert response.json()["error"] == "not_editable"


def test_edit_with_invalid_merge_refused_and_unchanged(hub, researcher) -> None:
    request_id = hub.create_request(researcher)
    response = hub.client.patch(f"/v1/requests/{request_id}",
                                json={"term_end": "2025-01-01"}, headers=hub.auth(researcher))
    assert response.status_code == 422
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert detail["agreement"]["term_end"] == "2027-12-31"


@pytest.mark.parametrize(("setup", "action", "from_state", "to_state"), [
    ("approved", "withdraw", "approved", "withdrawn"),
    ("submitted", "submit", "submitted", "submitted"),
    ("withdrawn", "submit", "withdrawn", "submitted"),
    ("draft", "revoke", "draft", "revoked"),
    ("submitted", "revoke", "submitted", "revoked"),
])
def test_illegal_transition_via_api_is_409_naming_states(hub, researcher, setup, action,
                                                        from_state, to_state) -> None:
    governance = hub.token("governance")
    request_id = hub.create_request(researcher)
    if setup != "draft":
        hub.client.post(f"/v1/requests/{request_id}/submit", headers=hub.auth(researcher))
    if setup == "withdrawn":
        hub.client.post(f"/v1/requests/{request_id}/withdraw", headers=hub.auth(researcher))
    if setup == "approved":
        hub.decide(request_id, "K12")
        hub.decide(request_id, "HE")
        hub.review(request_id, governance)
        hub.review(request_id, hub.token("governance"))
    token = governance if action == "revoke" else researcher
    body = {"json": {"reason": "because"}}
    if setup == "draft" and action == "revoke":
        # Governance cannot even see a draft.
        response = hub.client.post(f"/v1/requests/{request_id}/revoke", headers=hub.auth(token),
                                   **body)
        assert response.status_code == 404
        return
    response = hub.client.post(f"/v1/requests/{request_id}/{action}", headers=hub.auth(token),
                               **body)
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "illegal_transition"
    assert f"'{from_state}'" in response.json()["detail"]
    assert f"'{to_state}'" in response.json()["detail"]


def test_revoke_after_approval(hub, researcher) -> None:
    request_id = hub.submitted_request(researcher)
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    hub.review(request_id, hub.token("governance"))
    hub.review(request_id, hub.token("governance"))
    governance = hub.token("governance")
    no_reason = hub.client.post(f"/v1/requests/{request_id}/revoke", json={},
                                headers=hub.auth(governance))
    assert no_reason.status_code == 422
    response = hub.client.post(f"/v1/requests/{request_id}/revoke",
                               json={"reason": "security incident"}, headers=hub.auth(governance))
    assert response.json()["status"] == "revoked"


def test_projects_expire_after_their_term(hub, researcher) -> None:
    import datetime as dt

    from hub.domain.roles import OPERATOR
    from hub.services.requests import expire_due

    request_id = hub.submitted_request(researcher)
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    hub.review(request_id, hub.token("governance"))
    hub.review(request_id, hub.token("governance"))
    with hub.ctx.session_factory() as session:
        assert expire_due(session, hub.ctx, OPERATOR) == []
    hub.clock.offset = dt.date(2028, 1, 1) - dt.datetime.now(dt.UTC).date()
    with hub.ctx.session_factory() as session:
        assert expire_due(session, hub.ctx, OPERATOR) == [request_id]
    with hub.ctx.session_factory() as session:
        assert session.get(Request, request_id).status == "expired"
    public = hub.client.get("/v1/public/projects").json()
    assert public["approved_projects"][0]["status"] == "expired"
