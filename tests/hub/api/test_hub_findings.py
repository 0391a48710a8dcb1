"""Findings back to agencies through the API: reports shared with the project's stewards
first, the review window, objections, release, deliverables and publications."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

PDF = b"%PDF-1.7\n% interim findings: enrolment by third-grade score band\n%%EOF\n"
DELIVERABLES = [
    {"title": "Interim report", "kind": "interim", "due": "2026-06-30"},
    {"title": "Final paper", "kind": "final", "due": "2099-12-31"},
]


def approved_project(hub: Any, **overrides: Any) -> tuple[str, str]:
    """A researcher's token and their approved project (K12 and HE, quorum of 2)."""
    researcher = hub.token("researcher", email="ada@uni.example")
    rid = hub.submitted_request(researcher, deliverables=DELIVERABLES, **overrides)
    for agency in ("K12", "HE"):
        assert hub.decide(rid, agency).status_code == 200
    for _ in range(2):
        assert hub.review(rid, hub.token("governance")).status_code == 201
    assert hub.status(rid, researcher) == "approved"
    return researcher, rid


def upload(hub: Any, token: str, rid: str, *, data: bytes = PDF,
           content_type: str = "application/pdf", **fields: Any) -> Any:
    body = {"project_id": rid, "title": "Interim findings", "kind": "interim",
            "filename": "interim.pdf", "content_type": content_type,
            "content_base64": base64.b64encode(data).decode(), **fields}
    return hub.client.post("/v1/findings", json=body, headers=hub.auth(token))


def public_entry(hub: Any, rid: str) -> dict[str, Any]:
    projects = hub.client.get("/v1/public/projects").json()["approved_projects"]
    return next(p for p in projects if p["id"] == rid)


def days_later(hub: Any, days: int) -> None:
    hub.clock.offset += dt.timedelta(days=days)


def test_report_reaches_project_stewards_not_public_until_window_passed_and_released(
        hub) -> None:
    researcher, rid = approved_project(hub)
    response = upload(hub, researcher, rid, deliverable="Interim report")
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["status"] == "in_review" and report["review_days"] == 30
    assert report["window_open"] and not report["releasable"]
    steward = hub.token("steward", agency="K12")
    listed = hub.client.get("/v1/findings", headers=hub.auth(steward)).json()
    assert [r["id"] for r in listed] == [report["id"]]
    file = hub.client.get(f"/v1/findings/{report['id']}/file", headers=hub.auth(steward))
    assert file.status_code == 200 and file.content == PDF
    assert file.headers["X-Fedlink-SHA256"] == hashlib.sha256(PDF).hexdigest()
    # The public sees nothing of it: not on the list, not by id.
    assert public_entry(hub, rid)["released_findings"] == []
    assert hub.client.get(f"/v1/public/findings/{report['id']}").status_code == 404
    early = hub.client.post(f"/v1/findings/{report['id']}/release", headers=hub.auth(researcher))
    assert early.status_code == 409 and early.json()["error"] == "review_window_open"
    days_later(hub, 31)
    # The window passing alone publishes nothing: the release is a decision.
    assert public_entry(hub, rid)["released_findings"] == []
    released = hub.client.post(f"/v1/findings/{report['id']}/release",
                               headers=hub.auth(researcher))
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    entry = public_entry(hub, rid)["released_findings"]
    assert [(f["id"], f["sha256"]) for f in entry] == [(report["id"], report["sha256"])]
    public = hub.client.get(f"/v1/public/findings/{report['id']}")
    assert public.status_code == 200 and public.content == PDF
    assert public.headers["content-type"] == "application/pdf"


def test_objection_blocks_release_until_its_agency_withdraws_it(hub) -> None:
    researcher, rid = approved_project(hub, findings_review_days=10)
    report = upload(hub, researcher, rid).json()
    steward = hub.token("steward", agency="HE")
    objection = hub.client.post(f"/v1/findings/{report['id']}/comments",
                                headers=hub.auth(steward),
                                json={"kind": "objection", "text": "Table 2 has a cell of 3."})
    assert objection.status_code == 201, objection.text
    assert objection.json()["status"] == "standing"
    days_later(hub, 11)
    refused = hub.client.post(f"/v1/findings/{report['id']}/release",
                              headers=hub.auth(researcher))
    assert refused.status_code == 409 and refused.json()["error"] == "objection_standing"
    assert public_entry(hub, rid)["released_findings"] == []
    # Only the objecting agency withdraws it.
    other = hub.token("steward", agency="K12")
    path = f"/v1/findings/{report['id']}/comments/{objection.json()['id']}/withdraw"
    assert hub.client.post(path, headers=hub.auth(other)).status_code == 403
    colleague = hub.token("steward", agency="HE")
    withdrawn = hub.client.post(path, headers=hub.auth(colleague))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert hub.client.post(f"/v1/findings/{report['id']}/release",
                           headers=hub.auth(researcher)).status_code == 200


def test_governance_override_of_objection_is_audited_and_allows_release(hub) -> None:
    researcher, rid = approved_project(hub, findings_review_days=0)
    report = upload(hub, researcher, rid).json()
    # A window of 0 days closes at once: no objection may be lodged any more.
    steward = hub.token("steward", agency="K12")
    late = hub.client.post(f"/v1/findings/{report['id']}/comments", headers=hub.auth(steward),
                           json={"kind": "objection", "text": "Too late?"})
    assert late.status_code == 409 and late.json()["error"] == "review_window_closed"

    researcher2, rid2 = approved_project(hub, findings_review_days=5)
    report2 = upload(hub, researcher2, rid2).json()
    objection = hub.client.post(f"/v1/findings/{report2['id']}/comments",
                                headers=hub.auth(steward),
                                json={"kind": "objection", "text": "Names a school."}).json()
    days_later(hub, 6)
    governance = hub.token("governance")
    path = f"/v1/findings/{report2['id']}/comments/{objection['id']}/override"
    empty = hub.client.post(path, headers=hub.auth(governance), json={"reason": " "})
    assert empty.status_code == 422
    overridden = hub.client.post(path, headers=hub.auth(governance),
                                 json={"reason": "The school was removed in version 2."})
    assert overridden.status_code == 200 and overridden.json()["status"] == "overridden"
    assert hub.client.post(f"/v1/findings/{report2['id']}/release",
                           headers=hub.auth(governance)).status_code == 200
    auditor = hub.token("auditor")
    events = hub.client.get("/v1/audit/events", params={"limit": 1000, "project": rid2},
                            headers=hub.auth(auditor)).json()["events"]
    actions = [e["action"] for e in events if e["action"].startswith("findings.")]
    for action in ("findings.uploaded", "findings.objection",
                   "findings.objection_overridden", "findings.released"):
        assert action in actions


def test_steward_of_agency_not_in_project_cannot_see_report(hub) -> None:
    hub.enroll("WF", [{"name": "wage", "type": "number", "years": [2020],
                       "classification": "confidential"}])
    researcher, rid = approved_project(hub)
    report = upload(hub, researcher, rid).json()
    outsider = hub.token("steward", agency="WF")
    assert hub.client.get("/v1/findings", headers=hub.auth(outsider)).json() == []
    for path in (f"/v1/findings/{report['id']}", f"/v1/findings/{report['id']}/file"):
        assert hub.client.get(path, headers=hub.auth(outsider)).status_code == 404
    objection = hub.client.post(f"/v1/findings/{report['id']}/comments",
                                headers=hub.auth(outsider),
                                json={"kind": "objection", "text": "Let us see."})
    assert objection.status_code == 404
    stranger = hub.token("researcher")
    assert hub.client.get(f"/v1/findings/{report['id']}",
                          headers=hub.auth(stranger)).status_code == 404
    assert upload(hub, stranger, rid).status_code == 404


def test_upload_refuses_file_not_what_it_claims_and_unknown_deliverable(hub) -> None:
    researcher, rid = approved_project(hub)
    html = upload(hub, researcher, rid, data=b"<html><script>x</script></html>")
    assert html.status_code == 422 and html.json()["error"] == "bad_report_file"
    binary = upload(hub, researcher, rid, data=b"a\x00b", content_type="text/plain",
                    filename="notes.txt")
    assert binary.status_code == 422 and binary.json()["error"] == "bad_report_file"
    path = upload(hub, researcher, rid, filename="../etc/passwd")
    assert path.status_code == 422 and path.json()["error"] == "bad_report_file"
    unknown = upload(hub, researcher, rid, deliverable="A book")
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_deliverable"
    assert hub.client.get("/v1/findings", headers=hub.auth(researcher)).json() == []


def test_upload_refused_before_approval(hub) -> None:
    researcher = hub.token("researcher")
    rid = hub.submitted_request(researcher)
    refused = upload(hub, researcher, rid)
    assert refused.status_code == 409 and refused.json()["error"] == "project_not_approved"


def test_deliverables_show_overdue_in_review_and_released(hub) -> None:
    researcher, rid = approved_project(hub, findings_review_days=0)
    steward = hub.token("steward", agency="K12")
    rows = hub.client.get(f"/v1/projects/{rid}/deliverables", headers=hub.auth(steward)).json()
    assert [(d["title"], d["status"]) for d in rows] == [("Interim report", "overdue"),
                                                         ("Final paper", "due")]
    report = upload(hub, researcher, rid, deliverable="Interim report").json()
    rows = hub.client.get(f"/v1/projects/{rid}/deliverables", headers=hub.auth(steward)).json()
    assert rows[0]["status"] == "in_review" and rows[0]["reports"] == [report["id"]]
    hub.client.post(f"/v1/findings/{report['id']}/release", headers=hub.auth(researcher))
    rows = hub.client.get(f"/v1/projects/{rid}/deliverables", headers=hub.auth(steward)).json()
    assert rows[0]["status"] == "released"


def test_publication_of_report_in_review_refused_then_registered_publicly(hub) -> None:
    researcher, rid = approved_project(hub, findings_review_days=3)
    report = upload(hub, researcher, rid, kind="final", deliverable="Final paper").json()
    body = {"project_id": rid, "citation": "Researcher, A. (2027). Early grades. J. Educ.",
            "published_on": "2027-06-01", "doi": "10.1234/jed.2027.42",
            "report_id": report["id"]}
    early = hub.client.post("/v1/publications", json=body, headers=hub.auth(researcher))
    assert early.status_code == 409 and early.json()["error"] == "report_not_released"
    assert hub.client.get("/v1/public/publications").json() == []
    days_later(hub, 4)
    hub.client.post(f"/v1/findings/{report['id']}/release", headers=hub.auth(researcher))
    added = hub.client.post("/v1/publications", json=body, headers=hub.auth(researcher))
    assert added.status_code == 201, added.text
    register = hub.client.get("/v1/public/publications").json()
    assert [(p["doi"], p["project_title"]) for p in register] == [
        ("10.1234/jed.2027.42", "Early grades and college enrolment")]
    assert public_entry(hub, rid)["publications"][0]["report_id"] == report["id"]
    bad = hub.client.post("/v1/publications", headers=hub.auth(researcher),
                          json={**body, "report_id": None, "doi": "not-a-doi"})
    assert bad.status_code == 422 and bad.json()["error"] == "bad_doi"


def test_agreement_repeating_a_deliverable_title_or_a_long_window_is_refused(hub) -> None:
    researcher = hub.token("researcher")
    repeated = hub.client.post("/v1/requests", headers=hub.auth(researcher),
                               json=hub.agreement(deliverables=DELIVERABLES[:1] * 2))
    assert repeated.status_code == 422 and "repeat a title" in repeated.text
    too_long = hub.client.post("/v1/requests", headers=hub.auth(researcher),
                               json=hub.agreement(findings_review_days=181))
    assert too_long.status_code == 422 and "findings_review_days" in too_long.text
