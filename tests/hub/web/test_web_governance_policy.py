"""Governance policy on the web pages: the review form's checklist (checkboxes and notes,
through the same service as the API), the criteria shown with each review, and the public
page's research agenda and published pre-analysis plans."""

from __future__ import annotations

from typing import Any

from markupsafe import escape

from hub.settings import DEFAULT_CRITERIA

PLAN = "Compare enrolment of students with and without tutoring; outcome: enrolment by 19."


def _researcher(hub: Any) -> str:
    return hub.token("researcher", email="ada@uni.example")


def _ids(hub: Any) -> list[str]:
    return [c["id"] for c in hub.criteria()]


def test_review_form_lists_every_criterion_as_a_checkbox(web_hub, browser) -> None:
    rid = web_hub.submitted_request(_researcher(web_hub))
    page = browser(web_hub.token("governance")).get(f"/review/{rid}").text
    assert "<legend>Review criteria</legend>" in page
    for cid, text in DEFAULT_CRITERIA:
        assert f'<input type="checkbox" id="met-{cid}" name="met" value="{cid}">' in page
        assert f'<label for="met-{cid}">{escape(text)}</label>' in page


def test_approval_with_a_criterion_unticked_shows_the_error_at_the_checklist(
        web_hub, browser, audit_events) -> None:
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher)
    b = browser(web_hub.token("governance"))
    ticked = _ids(web_hub)[:-1]
    response = b.post(f"/review/{rid}", {"decision": "approve", "met": ticked},
                      csrf_from=f"/review/{rid}")
    assert response.status_code == 422
    assert 'id="criteria-error"' in response.text
    assert f"not answered: {DEFAULT_CRITERIA[-1][0]}" in response.text
    for cid in ticked:  # what was ticked stays ticked
        assert f'id="met-{cid}" name="met" value="{cid}" checked' in response.text
    assert audit_events(action="request.reviewed") == []
    assert [e["detail"]["code"] for e in audit_events(action="request.review_refused")] == [
        "criteria_incomplete"]
    assert web_hub.status(rid, researcher) == "submitted"


def test_denial_on_the_page_records_a_criterion_not_met_with_its_note(web_hub,
                                                                      browser) -> None:
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher)
    b = browser(web_hub.token("governance", name="Gail"))
    ids = _ids(web_hub)
    notes = ["" for _ in ids]
    notes[ids.index("minimum_necessary")] = "Ten years for one question"
    response = b.post(f"/review/{rid}", {
        "decision": "deny", "reason": "Too much data", "public_reason": "Asks too much data",
        "met": ["irb"], "note_for": ids, "note": notes}, csrf_from=f"/review/{rid}")
    assert response.status_code == 303, response.text
    detail = web_hub.client.get(f"/v1/requests/{rid}", headers=web_hub.auth(researcher)).json()
    assert [(c["id"], c["met"], c["note"]) for c in detail["reviews"][0]["criteria"]] == [
        ("minimum_necessary", False, "Ten years for one question"), ("irb", True, "")]
    page = b.get(f"/review/{rid}").text
    assert "Not met: Only the data the research questions need is asked" in page
    assert "Ten years for one question" in page


def test_forged_criterion_name_is_ignored_not_a_crash(web_hub, browser) -> None:
    rid = web_hub.submitted_request(_researcher(web_hub))
    b = browser(web_hub.token("governance"))
    response = b.post(f"/review/{rid}", {"decision": "approve",
                                         "met": [*_ids(web_hub), "<b>x</b>"],
                                         "note_for": ["<b>x</b>"], "note": ["y"]},
                      csrf_from=f"/review/{rid}")
    assert response.status_code == 303, response.text


def _approve(hub: Any, rid: str) -> None:
    for agency in ("K12", "HE"):
        assert hub.decide(rid, agency).status_code == 200
    for _ in range(2):
        assert hub.review(rid, hub.token("governance")).status_code == 201


def test_public_page_shows_the_agenda_and_its_approved_projects(web_hub, browser) -> None:
    governance = web_hub.token("governance")
    item = web_hub.client.post("/v1/agenda", headers=web_hub.auth(governance), json={
        "question": "Which supports raise college enrolment?"}).json()["id"]
    empty = browser().get("/public").text
    assert "Which supports raise college enrolment?" in empty
    assert "No approved project yet." in empty
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher, agenda_items=[item], title="Tutoring study",
                                    pre_analysis_plan={"text": PLAN, "publish": True})
    assert PLAN not in browser().get("/public").text  # under review: never
    _approve(web_hub, rid)
    page = browser().get("/public").text
    assert "Approved projects: Tutoring study" in page
    assert f'<a href="#agenda-{item}">Which supports raise college enrolment?</a>' in page
    assert "<h4>Pre-analysis plan</h4>" in page and PLAN in page


def test_public_page_omits_an_unpublished_plan(web_hub, browser) -> None:
    rid = web_hub.submitted_request(_researcher(web_hub),
                                    pre_analysis_plan={"text": PLAN, "publish": False})
    _approve(web_hub, rid)
    page = browser().get("/public").text
    assert "Early grades and college enrolment" in page
    assert PLAN not in page and "<h4>Pre-analysis plan</h4>" not in page


def test_review_page_shows_requester_type_agenda_items_and_plan(web_hub, browser) -> None:
    governance = web_hub.token("governance")
    item = web_hub.client.post("/v1/agenda", headers=web_hub.auth(governance), json={
        "question": "Which supports raise college enrolment?"}).json()["id"]
    rid = web_hub.submitted_request(_researcher(web_hub), agenda_items=[item],
                                    requester_type="vendor",
                                    pre_analysis_plan={"text": PLAN, "publish": False})
    page = browser(governance).get(f"/review/{rid}").text
    assert "<dt>Requester type</dt><dd>Vendor</dd>" in page
    assert f'<a href="/public#agenda-{item}">#{item}</a>' in page
    assert PLAN in page and "(not published)" in page
