"""The outputs pages: a steward's work list with the automatic checks, the output page with
its table, and the release / return form (CSRF, the airlock's rule, audited)."""

from __future__ import annotations

from typing import Any

from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import OPERATOR
from hub.persistence import requests as request_store
from hub.services.requests import move

SAFE = "school,Female,Male,Total\nOak,*,*,16\nElm,*,*,27\nPine,30,40,70\nTotal,49,64,113\n"
LEAKY = "school,Female,Male,Total\nOak,12,4,16\nElm,*,20,27\nTotal,19,24,43\n"


def ready_project(hub: Any, researcher: str, **overrides: Any) -> str:
    """An approved project moved on to ``ready`` (as a finished linkage run leaves it)."""
    request_id = hub.submitted_request(researcher, **overrides)
    for agency in ("K12", "HE"):
        assert hub.decide(request_id, agency).status_code == 200
    for _ in range(hub.ctx.settings.governance_quorum):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    with hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=request_id)
        assert request is not None and request.status == RequestStatus.APPROVED
        move(session, hub.ctx, OPERATOR, request, RequestStatus.LINKING,
             action="request.linking")
        move(session, hub.ctx, OPERATOR, request, RequestStatus.READY, action="request.ready")
        session.commit()
    return request_id


def submit_output(hub: Any, researcher: str, project_id: str, csv: str = SAFE,
                  name: str = "Enrolment by school") -> dict[str, Any]:
    response = hub.client.post("/v1/outputs", headers=hub.auth(researcher), json={
        "project_id": project_id, "name": name, "kind": "frequency", "csv": csv,
        "description": "Counts of students"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _pending(web_hub: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    researcher = web_hub.token("researcher")
    project = ready_project(web_hub, researcher)
    return researcher, submit_output(web_hub, researcher, project), submit_output(
        web_hub, researcher, project, LEAKY, name="Leaky table")


def test_steward_list_shows_pending_outputs_with_checks(web_hub: Any, browser: Any) -> None:
    _, safe, leaky = _pending(web_hub)
    steward = browser(web_hub.token("steward", agency="K12"))
    page = steward.get("/outputs").text
    assert safe["id"] in page and "Passed (0 findings)" in page
    assert leaky["id"] not in page  # returned at once by the checks: nothing to decide
    everything = steward.get("/outputs?show=all").text
    assert leaky["id"] in everything and "Failed</span> (" in everything
    output = steward.get(f"/outputs/{safe['id']}").text
    assert "<th scope=\"col\">school</th>" in output and "<td>Pine</td>" in output
    assert 'action="/outputs/' in output and "K12's decision" in output


def test_steward_releases_on_the_page_and_the_output_waits_for_the_other(
        web_hub: Any, browser: Any, audit_events: Any) -> None:
    _, safe, _ = _pending(web_hub)
    steward = browser(web_hub.token("steward", agency="K12"))
    url = f"/outputs/{safe['id']}"
    done = steward.post(url, {"decision": "release"}, csrf_from=url)
    assert done.status_code == 303 and done.headers["location"] == f"{url}?done=true"
    page = steward.get(done.headers["location"]).text
    assert "Your decision was recorded." in page and "A decision of HE" in page
    assert 'action="/outputs/' not in page  # K12 decided once
    assert safe["id"] not in steward.get("/outputs").text  # no longer waiting for K12
    events = audit_events(action="output.reviewed")
    assert [(e["object_id"], e["agency"], e["detail"]["decision"]) for e in events] == [
        (safe["id"], "K12", "release")]
    he = browser(web_hub.token("steward", agency="HE"))
    assert he.post(url, {"decision": "release"}, csrf_from=url).status_code == 303
    public = web_hub.client.get(f"/v1/public/outputs/{safe['id']}")
    assert public.status_code == 200 and public.text == SAFE


def test_return_needs_comments_and_reaches_the_researcher(web_hub: Any, browser: Any) -> None:
    researcher, safe, _ = _pending(web_hub)
    steward = browser(web_hub.token("steward", agency="HE"))
    url = f"/outputs/{safe['id']}"
    bare = steward.post(url, {"decision": "return", "comments": "  "}, csrf_from=url)
    assert bare.status_code == 422 and "Returning an output needs comments." in bare.text
    returned = steward.post(url, {"decision": "return", "comments": "Pine <b>is</b> small"},
                            csrf_from=url)
    assert returned.status_code == 303
    mine = browser(researcher).get(url).text
    assert "Pine &lt;b&gt;is&lt;/b&gt; small" in mine and "Returned" in mine
    assert 'action="/outputs/' not in mine  # researchers read, never decide


def test_review_form_needs_csrf_and_a_steward(web_hub: Any, browser: Any,
                                              audit_events: Any) -> None:
    _, safe, _ = _pending(web_hub)
    url = f"/outputs/{safe['id']}"
    steward = browser(web_hub.token("steward", agency="K12"))
    forged = steward.post(url, {"decision": "release", "csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert audit_events(action="auth.csrf_refused")
    governance = browser(web_hub.token("governance"))
    refused = governance.post(url, {"decision": "release"}, csrf_from=url)
    assert refused.status_code == 403
    assert audit_events(action="output.reviewed") == []
    outsider = browser(web_hub.token("researcher"))
    assert outsider.get(url).status_code == 404
    assert safe["id"] not in outsider.get("/outputs?show=all").text
