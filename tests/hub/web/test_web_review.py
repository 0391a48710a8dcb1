"""The review queue and request pages: what each role sees, the review form through the
same service as the API, validation errors, CSRF, escaping, 403/404 pages."""

from __future__ import annotations

from typing import Any

XSS = "<script>alert(1)</script>"


def _researcher(hub: Any) -> str:
    return hub.token("researcher", email="ada@uni.example")


def test_queue_lists_pending_requests_with_what_is_still_needed(web_hub, browser) -> None:
    rid = web_hub.submitted_request(_researcher(web_hub), title="Grades and college")
    page = browser(web_hub.token("governance")).get("/review")
    assert page.status_code == 200
    assert f'href="/review/{rid}"' in page.text and "Grades and college" in page.text
    assert "agency HE; agency K12; 2 more governance approval(s)" in page.text
    assert "<caption>Requests waiting for a decision (1)</caption>" in page.text


def test_request_page_shows_agreement_classifications_and_decisions(web_hub,
                                                                    browser) -> None:
    rid = web_hub.submitted_request(_researcher(web_hub))
    assert web_hub.decide(rid, "K12", "deny", reason="Too many years asked").status_code == 200
    page = browser(web_hub.token("governance")).get(f"/review/{rid}").text
    for text in ("Encrypted workstation in a locked office", "IRB-2025-042",
                 "Dr Ada Researcher, PI, State University", "2026-01-01 to 2027-12-31",
                 "Share interim findings", "Data destroyed"):
        assert text in page, text
    assert '<td class="mono">test_score</td><td>confidential</td>' in page
    assert '<td class="mono">grade</td><td>internal</td>' in page
    assert "Too many years asked" in page and "Denied" in page


def test_two_governance_reviews_and_both_agencies_approve(web_hub, browser,
                                                          audit_events) -> None:
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher)
    for agency in ("K12", "HE"):
        assert web_hub.decide(rid, agency).status_code == 200
    for name in ("Gail", "Gus"):
        b = browser(web_hub.token("governance", name=name))
        response = b.post(f"/review/{rid}", {"decision": "approve", "reason": "",
                                             "met": [c["id"] for c in web_hub.criteria()]},
                          csrf_from=f"/review/{rid}")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/review/{rid}?done=true"
        done = b.get(response.headers["location"]).text
        assert "Your review was recorded." in done and "Record my review" not in done
    assert web_hub.status(rid, researcher) == "approved"
    assert [e["project"] for e in audit_events(action="request.approved")] == [rid]
    reviewed = audit_events(action="request.reviewed")
    assert len(reviewed) == 2 and all(e["role"] == "governance" for e in reviewed)


def test_deny_without_reason_shows_the_error_at_the_field(web_hub, browser) -> None:
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher)
    b = browser(web_hub.token("governance"))
    response = b.post(f"/review/{rid}", {"decision": "deny", "reason": "  "},
                      csrf_from=f"/review/{rid}")
    assert response.status_code == 422
    assert 'id="reason-error"' in response.text
    assert 'aria-describedby="reason-hint reason-error" aria-invalid="true"' in response.text
    assert 'href="#reason"' in response.text  # the error summary links to the field
    assert 'value="deny" checked' in response.text  # what was entered is kept
    assert web_hub.status(rid, researcher) == "submitted"  # nothing was recorded


def test_deny_without_public_reason_shows_the_error_at_its_field(web_hub, browser) -> None:
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher)
    b = browser(web_hub.token("governance"))
    response = b.post(f"/review/{rid}", {"decision": "deny", "reason": "internal only"},
                      csrf_from=f"/review/{rid}")
    assert response.status_code == 422
    assert 'id="public_reason-error"' in response.text
    assert "A deny decision needs a public_reason" in response.text
    assert 'href="#public_reason"' in response.text
    assert "internal only" in response.text  # what was entered is kept
    assert web_hub.status(rid, researcher) == "submitted"
    response = b.post(f"/review/{rid}", {"decision": "deny", "reason": "internal only",
                                         "public_reason": "Outside the agencies' mandate."},
                      csrf_from=f"/review/{rid}")
    assert response.status_code == 303
    assert web_hub.status(rid, researcher) == "denied"
    assert "Outside the agencies&#39; mandate." in browser().get("/public").text


def test_approving_an_irb_pending_request_shows_the_refusal(web_hub, browser) -> None:
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher, irb={"status": "pending"})
    b = browser(web_hub.token("governance"))
    response = b.post(f"/review/{rid}", {"decision": "approve"}, csrf_from=f"/review/{rid}")
    assert response.status_code == 409
    assert "IRB status is &#39;pending&#39;" in response.text
    assert "deny it or request changes" in response.text
    assert web_hub.status(rid, researcher) == "submitted"  # nothing was recorded


def test_missing_decision_is_a_field_error(web_hub, browser) -> None:
    rid = web_hub.submitted_request(_researcher(web_hub))
    b = browser(web_hub.token("governance"))
    response = b.post(f"/review/{rid}", {"reason": "fine"}, csrf_from=f"/review/{rid}")
    assert response.status_code == 422
    assert 'id="decision-error"' in response.text
    assert 'aria-describedby="decision-hint decision-error"' in response.text


def test_review_without_or_with_another_sessions_csrf_token_is_refused(
        web_hub, browser, audit_events) -> None:
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher)
    other = browser(web_hub.token("governance")).csrf("/")
    b = browser(web_hub.token("governance"))
    for data in ({"decision": "approve"}, {"decision": "approve", "csrf_token": other}):
        response = b.post(f"/review/{rid}", data)
        assert response.status_code == 403
        assert "This form was not accepted" in response.text
    assert len(audit_events(action="auth.csrf_refused")) == 2
    assert audit_events(action="request.reviewed") == []
    assert web_hub.status(rid, researcher) == "submitted"


def test_review_twice_shows_a_conflict_and_hides_the_form(web_hub, browser) -> None:
    rid = web_hub.submitted_request(_researcher(web_hub))
    b = browser(web_hub.token("governance"))
    approve = {"decision": "approve", "met": [c["id"] for c in web_hub.criteria()]}
    assert b.post(f"/review/{rid}", approve, csrf_from="/").status_code == 303
    page = b.get(f"/review/{rid}").text
    assert "You have reviewed this round of the request." in page
    assert "Record my review" not in page
    again = b.post(f"/review/{rid}", approve, csrf_from="/")
    assert again.status_code == 409 and "already reviewed this round" in again.text


def test_project_team_member_cannot_review(web_hub, browser) -> None:
    rid = web_hub.submitted_request(_researcher(web_hub))
    b = browser(web_hub.token("governance", email="ada@uni.example"))  # listed in personnel
    response = b.post(f"/review/{rid}", {"decision": "approve"}, csrf_from="/")
    assert response.status_code == 403
    assert "a member of the project team cannot review its request" in response.text


def test_script_in_a_title_is_shown_as_text(web_hub, browser) -> None:
    rid = web_hub.submitted_request(_researcher(web_hub), title=XSS,
                                    public_summary=f"Summary {XSS}")
    b = browser(web_hub.token("governance"))
    for url in ("/review", f"/review/{rid}"):
        page = b.get(url).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert XSS not in page, url


def test_researcher_gets_a_403_page_on_the_review_pages(web_hub, browser,
                                                        audit_events) -> None:
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher)
    response = browser(researcher).get(f"/review/{rid}")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This page is for auditor, governance, steward" in response.text
    assert "Encrypted workstation" not in response.text
    assert audit_events(action="auth.forbidden")[-1]["detail"]["path"] == f"/review/{rid}"


def test_unknown_request_is_a_404_page(web_hub, browser) -> None:
    response = browser(web_hub.token("governance")).get("/review/prj-000000000000")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text


def test_steward_sees_only_their_agency_and_the_node_notice(web_hub, browser) -> None:
    researcher = _researcher(web_hub)
    rid = web_hub.submitted_request(researcher)
    web_hub.enroll("WF", [{"name": "wages", "type": "number", "years": [2019],
                           "classification": "confidential"}])
    other = web_hub.submitted_request(researcher, variables=[
        {"agency": "WF", "variables": ["wages"], "first_year": 2019, "last_year": 2019}],
        agency_contacts=[{"agency": "WF", "name": "W", "email": "w@wf.example"}])
    web_hub.decide(rid, "HE", "deny", reason="HE internal reason")
    b = browser(web_hub.token("steward", agency="K12"))
    queue = b.get("/review?show=all").text
    assert rid in queue and other not in queue
    page = b.get(f"/review/{rid}").text
    assert f"fedlink node approve {rid} --dir NODE_DIR" in page
    assert "K12 agency (K12)" in page and "HE agency (HE)" not in page
    assert "HE internal reason" not in page  # another agency's decision
    assert "Terms digest your node must approve" in page
    assert web_hub.terms(rid, "K12")["terms_digest"] in page
    assert "Record my review" not in page  # stewards decide on their node
    assert b.get(f"/review/{other}").status_code == 404
    post = b.post(f"/review/{rid}", {"decision": "approve"}, csrf_from="/")
    assert post.status_code == 403
