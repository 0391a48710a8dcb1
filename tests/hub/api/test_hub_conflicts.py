"""Conflict of interest: the researcher's personnel list cannot choose the reviewers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.db.models import AuditEvent


def _approved_by_agencies(hub: Any, **overrides: Any) -> tuple[str, str]:
    researcher = hub.token("researcher", email="lead@uni.example")
    request_id = hub.submitted_request(researcher, **overrides)
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    return researcher, request_id


def _declare(hub: Any, request_id: str, token: str, conflicted: bool, reason: str = "") -> Any:
    return hub.client.post(f"/v1/requests/{request_id}/conflicts", headers=hub.auth(token),
                           json={"conflicted": conflicted, "reason": reason})


def test_personnel_listing_a_member_does_not_exclude_them_once_they_confirm(hub) -> None:
    """The attack of issue 13 (6): a researcher lists governance members as personnel to
    keep them from reviewing. They are held back only until they answer, and the other
    members see both the listing and the answer."""
    member = hub.token("governance", email="ada@uni.example")  # listed by the agreement
    other = hub.token("governance", email="other@gov.example")
    researcher, request_id = _approved_by_agencies(hub)
    held = hub.review(request_id, member)
    assert held.status_code == 403 and held.json()["error"] == "conflict_of_interest"
    seen = hub.client.get(f"/v1/requests/{request_id}/conflicts", headers=hub.auth(other))
    assert seen.status_code == 200
    named = seen.json()["personnel_names_members"]
    assert len(named) == 1 and named[0]["declared"] is None
    no_reason = _declare(hub, request_id, member, False)
    assert no_reason.status_code == 422
    declared = _declare(hub, request_id, member, False, "I am not on this team")
    assert declared.status_code == 200 and declared.json()["personnel_listed"] is True
    assert hub.review(request_id, member).status_code == 201
    assert hub.review(request_id, other).status_code == 201
    assert hub.status(request_id, researcher) == "approved"
    seen = hub.client.get(f"/v1/requests/{request_id}/conflicts", headers=hub.auth(other)).json()
    assert seen["personnel_names_members"][0]["declared"] is False
    assert seen["declarations"][0]["reason"] == "I am not on this team"
    with hub.ctx.session_factory() as session:
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "request.conflict_declared")))
    assert [e.detail for e in events] == [{"conflicted": False, "personnel_listed": True}]


def test_member_recusal_refuses_their_review(hub) -> None:
    member = hub.token("governance", email="m@gov.example")
    _, request_id = _approved_by_agencies(hub)
    assert _declare(hub, request_id, member, True, "former student").status_code == 200
    response = hub.review(request_id, member)
    assert response.status_code == 403 and response.json()["error"] == "conflict_of_interest"


def test_requester_second_account_cannot_declare_itself_unconflicted(hub) -> None:
    _, request_id = _approved_by_agencies(hub)
    same_person = hub.token("governance", email="LEAD@uni.example")
    response = _declare(hub, request_id, same_person, False, "trust me")
    assert response.status_code == 403 and response.json()["error"] == "conflict_of_interest"
    assert hub.review(request_id, same_person).status_code == 403


def test_researcher_cannot_declare_or_read_conflicts(hub) -> None:
    researcher, request_id = _approved_by_agencies(hub)
    assert _declare(hub, request_id, researcher, False, "x").status_code == 403
    response = hub.client.get(f"/v1/requests/{request_id}/conflicts",
                              headers=hub.auth(researcher))
    assert response.status_code == 403
