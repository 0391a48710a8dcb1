"""The audit page: filters, paging, CSV export, chain status, validation, access."""

from __future__ import annotations

import csv
import io

from sqlalchemy import text


def test_audit_page_filters_by_action_and_project(web_hub, browser) -> None:
    researcher = web_hub.token("researcher")
    rid = web_hub.submitted_request(researcher)
    b = browser(web_hub.token("auditor"))
    page = b.get(f"/audit?action=request.&project={rid}")
    assert page.status_code == 200
    assert '<td class="mono">request.created</td>' in page.text
    assert '<td class="mono">request.submitted</td>' in page.text
    assert '<td class="mono">user.created</td>' not in page.text  # filtered out
    assert f'value="{rid}"' in page.text  # the form keeps what was asked
    assert "2 matching events" in page.text


def test_audit_paging_links_follow_the_chain(web_hub, browser) -> None:
    rid = web_hub.submitted_request(web_hub.token("researcher"))
    governance = web_hub.auth(web_hub.token("governance"))
    # Each view of a request's agreement is an audited read (listings are not: docs/hub.md,
    # "Which reads are audited"): more than one page of events.
    for _ in range(50):
        assert web_hub.client.get(f"/v1/requests/{rid}", headers=governance).status_code == 200
    b = browser(web_hub.token("auditor"))
    first = b.get("/audit").text
    assert "showing events 1 to 50." in first
    assert 'href="/audit?after_seq=50"' in first
    second = b.get("/audit?after_seq=50").text
    assert "showing events 51 to" in second and 'href="/audit">First page</a>' in second


def test_bad_dates_are_field_errors(web_hub, browser) -> None:
    b = browser(web_hub.token("auditor"))
    response = b.get("/audit?since=03/07/2026&until=2026-01-01")
    assert response.status_code == 422
    assert 'id="since-error"' in response.text
    assert 'aria-describedby="since-hint since-error" aria-invalid="true"' in response.text
    reversed_range = b.get("/audit?since=2026-02-01&until=2026-01-01")
    assert reversed_range.status_code == 422 and 'id="until-error"' in reversed_range.text


def test_dates_cover_whole_days(web_hub, browser) -> None:
    today = web_hub.clock().date().isoformat()
    b = browser(web_hub.token("auditor"))
    assert "0 matching events" not in b.get(f"/audit?since={today}&until={today}").text
    assert "0 matching events" in b.get("/audit?until=2000-01-01").text


def test_csv_export_has_the_filtered_events_and_is_audited(web_hub, browser) -> None:
    rid = web_hub.submitted_request(web_hub.token("researcher"))
    b = browser(web_hub.token("auditor"))
    response = b.get(f"/audit/export.csv?project={rid}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["action"] for r in rows] == ["request.created", "request.submitted"]
    assert all(r["project"] == rid for r in rows)
    later = b.get("/audit?action=audit.exported").text
    assert "audit.exported" in later and f"project: {rid}" in later


def test_chain_status_intact_names_the_checkpoint(web_hub, browser) -> None:
    b = browser(web_hub.token("auditor"))
    web_hub.client.post("/v1/audit/checkpoints", headers=web_hub.auth(web_hub.admin_token))
    page = b.get("/audit").text
    assert "<strong>Intact.</strong> Verified every event from 1 to" in page
    assert "1 signed checkpoint;" in page and web_hub.ctx.keys.signing_kid in page


def test_chain_status_names_the_first_broken_event_in_red(web_hub, browser) -> None:
    b = browser(web_hub.token("auditor"))
    with web_hub.ctx.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET outcome = 'edited' WHERE seq = 3"))
    page = b.get("/audit").text
    assert 'class="chain chain-broken" role="alert"' in page
    assert "<strong>Broken at event 3.</strong> audit event 3 was altered" in page
    assert '<tr class="broken">\n        <th scope="row">3 <span class="broken-label">' in page


def test_audit_page_is_for_auditors_only(web_hub, browser) -> None:
    for role in ("governance", "researcher"):
        response = browser(web_hub.token(role)).get("/audit")
        assert response.status_code == 403, role
        assert "This page is for auditor" in response.text
    assert browser(web_hub.token("governance")).get("/audit/export.csv").status_code == 403
