"""The research agenda and pre-analysis plans (docs/governance-policy.md): governance adds and
retires priority questions, requests link only to active ones, the public sees each question
with its approved projects, and a pre-analysis plan is published only once approved and only
when the agreement says so."""

from __future__ import annotations

from typing import Any

PLAN = "Logistic regression of enrolment on grade-3 scores; primary outcome enrolment by 19."


def _add(hub: Any, token: str, question: str = "Which supports raise enrolment?") -> int:
    response = hub.client.post("/v1/agenda", headers=hub.auth(token),
                               json={"question": question, "description": "For 2028"})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active" and response.json()["retired_at"] is None
    return int(response.json()["id"])


def _error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


def _events(hub: Any, action: str) -> list[dict[str, Any]]:
    return list(hub.client.get("/v1/audit/events", params={"action": action},
                               headers=hub.auth(hub.token("auditor"))).json()["events"])


def _approve(hub: Any, request_id: str) -> None:
    for agency in ("K12", "HE"):
        assert hub.decide(request_id, agency).status_code == 200
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).status_code == 201


def _public(hub: Any) -> dict[str, Any]:
    response = hub.client.get("/v1/public/projects")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_governance_adds_lists_and_retires_agenda_items(hub) -> None:
    token = hub.token("governance")
    first = _add(hub, token)
    second = _add(hub, token, "Do apprenticeships raise earnings?")
    listed = hub.client.get("/v1/agenda", headers=hub.auth(hub.token("researcher"))).json()
    assert [(i["id"], i["status"]) for i in listed] == [(first, "active"), (second, "active")]
    retired = hub.client.post(f"/v1/agenda/{first}/retire", headers=hub.auth(token),
                              json={"reason": "answered"})
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert retired.json()["retired_at"] is not None
    _error(hub.client.post(f"/v1/agenda/{first}/retire", headers=hub.auth(token), json={}),
           409, "already_retired")
    _error(hub.client.post("/v1/agenda/999/retire", headers=hub.auth(token), json={}),
           404, "not_found")
    assert [e["object_id"] for e in _events(hub, "agenda.added")] == [str(first), str(second)]
    assert [e["detail"]["reason"] for e in _events(hub, "agenda.retired")] == ["answered"]
    refused = _events(hub, "agenda.retire_refused")
    assert sorted(e["detail"]["code"] for e in refused) == ["already_retired", "not_found"]


def test_agenda_question_must_not_be_blank(hub) -> None:
    response = hub.client.post("/v1/agenda", headers=hub.auth(hub.token("governance")),
                               json={"question": "   "})
    _error(response, 422, "invalid_request")


def test_request_links_only_to_active_agenda_items(hub) -> None:
    token = hub.token("governance")
    active, retired = _add(hub, token), _add(hub, token, "An old question?")
    assert hub.client.post(f"/v1/agenda/{retired}/retire", headers=hub.auth(token),
                           json={}).status_code == 200
    researcher = hub.token("researcher")
    for items in ([999], [retired], [active, retired]):
        response = hub.client.post("/v1/requests", headers=hub.auth(researcher),
                                   json=hub.agreement(agenda_items=items))
        _error(response, 422, "unknown_agenda_item")
    _error(hub.client.post("/v1/requests", headers=hub.auth(researcher),
                           json=hub.agreement(agenda_items=[active, active])),
           422, "invalid_request")
    assert hub.create_request(researcher, agenda_items=[active])


def test_submitting_a_draft_whose_agenda_item_was_retired_refused(hub) -> None:
    token = hub.token("governance")
    item = _add(hub, token)
    researcher = hub.token("researcher")
    request_id = hub.create_request(researcher, agenda_items=[item])
    hub.client.post(f"/v1/agenda/{item}/retire", headers=hub.auth(token), json={})
    response = hub.client.post(f"/v1/requests/{request_id}/submit", headers=hub.auth(researcher))
    _error(response, 422, "unknown_agenda_item")
    assert hub.status(request_id, researcher) == "draft"


def test_public_agenda_links_approved_projects_only(hub) -> None:
    item = _add(hub, hub.token("governance"))
    researcher = hub.token("researcher")
    approved = hub.submitted_request(researcher, agenda_items=[item], title="Linked study")
    pending = hub.submitted_request(researcher, agenda_items=[item], title="Pending study")
    _approve(hub, approved)
    agenda = hub.client.get("/v1/public/agenda")  # no token
    assert agenda.status_code == 200, agenda.text
    [shown] = agenda.json()["items"]
    assert shown["question"] == "Which supports raise enrolment?"
    assert shown["projects"] == [{"id": approved, "title": "Linked study"}]
    assert pending not in agenda.text
    [project] = _public(hub)["approved_projects"]
    assert project["agenda_items"] == [{"id": item, "question": shown["question"]}]


def test_pre_analysis_plan_published_only_after_approval(hub) -> None:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(
        researcher, pre_analysis_plan={"text": PLAN, "publish": True})
    assert PLAN not in hub.client.get("/v1/public/projects").text  # under review: nothing
    _approve(hub, request_id)
    [project] = _public(hub)["approved_projects"]
    assert project["pre_analysis_plan"] == PLAN


def test_unpublished_pre_analysis_plan_stays_internal(hub) -> None:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(
        researcher, pre_analysis_plan={"text": PLAN, "publish": False})
    _approve(hub, request_id)
    [project] = _public(hub)["approved_projects"]
    assert project["pre_analysis_plan"] is None
    assert PLAN not in hub.client.get("/v1/public/projects").text
    # The governance body still reads it in the agreement.
    detail = hub.client.get(f"/v1/requests/{request_id}",
                            headers=hub.auth(hub.token("governance"))).json()
    assert detail["agreement"]["pre_analysis_plan"]["text"] == PLAN


def test_denied_request_never_publishes_its_plan(hub) -> None:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(
        researcher, pre_analysis_plan={"text": PLAN, "publish": True})
    assert hub.review(request_id, hub.token("governance"), "deny").status_code == 201
    assert PLAN not in hub.client.get("/v1/public/projects").text
