"""``/v1/requests/{id}/runs``: who may start and read linkage runs, and on which projects
(the worker is not involved: a started run stays queued here)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from hub.db.models import AuditEvent, Job


def approved(hub: Any, researcher: str, **overrides: Any) -> str:
    request_id = hub.submitted_request(researcher, **overrides)
    for agency in {v["agency"] for v in overrides.get("variables", hub.agreement()["variables"])}:
        assert hub.decide(request_id, agency).status_code == 200
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    assert hub.status(request_id, researcher) == "approved"
    return request_id


def start(hub: Any, request_id: str, token: str) -> Any:
    return hub.client.post(f"/v1/requests/{request_id}/runs", headers=hub.auth(token))


def audited(hub: Any, request_id: str) -> list[tuple[str, str]]:
    with hub.ctx.session_factory() as session:
        rows = session.execute(select(AuditEvent.action, AuditEvent.outcome)
                               .where(AuditEvent.project == request_id)
                               .order_by(AuditEvent.seq))
        return [(a, o) for a, o in rows]


def chain_length(hub: Any) -> int:
    with hub.ctx.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_governance_starts_a_run_of_an_approved_project(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = approved(hub, researcher)
    governance = hub.token("governance")
    response = start(hub, request_id, governance)
    assert response.status_code == 202, response.text
    run = response.json()
    assert run["status"] == "queued" and run["project_id"] == request_id
    assert run["agencies"] == ["HE", "K12"] and run["attempt"] == 0
    assert run["failure"] is None and run["report"] is None
    assert hub.status(request_id, researcher) == "linking"
    with hub.ctx.session_factory() as session:
        job = session.scalars(select(Job).where(Job.project_id == request_id)).one()
    assert (job.kind, job.status, job.payload) == ("linkage_run", "queued", {"run_id": run["id"]})
    changes = [e for e in audited(hub, request_id) if e[0] != "request.viewed"]
    assert changes[-2:] == [("request.linking", "ok"), ("linkage_run.requested", "ok")]


@pytest.mark.parametrize("role", ["researcher", "steward", "auditor", "admin"])
def test_only_governance_may_start_a_run(hub: Any, role: str) -> None:
    researcher = hub.token("researcher")
    request_id = approved(hub, researcher)
    token = {"researcher": researcher, "admin": hub.admin_token}.get(role) or hub.token(
        role, **({"agency": "K12"} if role == "steward" else {}))
    response = start(hub, request_id, token)
    assert response.status_code == 403
    assert hub.status(request_id, researcher) == "approved"


def test_run_refused_unless_the_project_is_approved_or_ready(hub: Any) -> None:
    researcher = hub.token("researcher")
    governance = hub.token("governance")
    in_review = hub.submitted_request(researcher)
    hub.decide(in_review, "K12")
    response = start(hub, in_review, governance)
    assert response.status_code == 409 and response.json()["error"] == "not_runnable"
    draft = hub.create_request(researcher)
    assert start(hub, draft, governance).status_code == 404  # governance never sees drafts
    assert ("linkage_run.refused", "refused:not_runnable") in audited(hub, in_review)


def test_second_run_refused_while_one_is_queued(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = approved(hub, researcher)
    governance = hub.token("governance")
    first = start(hub, request_id, governance).json()
    again = start(hub, request_id, governance)
    assert again.status_code == 409 and again.json()["error"] == "run_in_progress"
    assert first["id"] in again.json()["detail"]


def test_run_refused_when_matching_is_not_authorised(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = approved(hub, researcher, matching_authorised=False)
    response = start(hub, request_id, hub.token("governance"))
    assert response.status_code == 409
    assert response.json()["error"] == "matching_not_authorised"
    assert hub.status(request_id, researcher) == "approved"


def test_run_refused_for_a_single_agency(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = approved(hub, researcher, variables=[
        {"agency": "K12", "variables": ["grade"], "first_year": 2018, "last_year": 2019}])
    response = start(hub, request_id, hub.token("governance"))
    assert response.status_code == 409 and response.json()["error"] == "too_few_agencies"


def test_who_may_read_runs(hub: Any) -> None:
    hub.enroll("WF", variables=[{"name": "wage", "type": "number", "years": [2018],
                                 "classification": "internal"}])
    researcher = hub.token("researcher")
    request_id = approved(hub, researcher)
    run_id = start(hub, request_id, hub.token("governance")).json()["id"]
    readers = [researcher, hub.token("governance"), hub.token("auditor"),
               hub.token("steward", agency="K12")]
    chain_before = chain_length(hub)
    for token in readers:
        listed = hub.client.get(f"/v1/requests/{request_id}/runs", headers=hub.auth(token))
        assert listed.status_code == 200 and [r["id"] for r in listed.json()] == [run_id]
        assert "report" not in listed.json()[0]
        one = hub.client.get(f"/v1/requests/{request_id}/runs/{run_id}",
                             headers=hub.auth(token))
        assert one.status_code == 200 and one.json()["status"] == "queued"
    # Listing and status polling append nothing to the audit chain (docs/hub.md, "Which
    # reads are audited"): four readers, eight reads, not one event.
    assert chain_length(hub) == chain_before
    # Not this project's people: 404, as for the request itself; the admin: 403.
    for token in (hub.token("researcher"), hub.token("steward", agency="WF")):
        response = hub.client.get(f"/v1/requests/{request_id}/runs/{run_id}",
                                  headers=hub.auth(token))
        assert response.status_code == 404
    admin = hub.client.get(f"/v1/requests/{request_id}/runs", headers=hub.auth(hub.admin_token))
    assert admin.status_code == 403
    actions = [a for a, _ in audited(hub, request_id)]
    assert "linkage_run.viewed" not in actions and "linkage_run.listed" not in actions


def test_unknown_run_and_report_of_an_unfinished_run(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = approved(hub, researcher)
    run_id = start(hub, request_id, hub.token("governance")).json()["id"]
    missing = hub.client.get(f"/v1/requests/{request_id}/runs/run-0000",
                             headers=hub.auth(researcher))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    report = hub.client.get(f"/v1/requests/{request_id}/runs/{run_id}/report.html",
                            headers=hub.auth(researcher))
    assert report.status_code == 409 and report.json()["error"] == "report_not_ready"
