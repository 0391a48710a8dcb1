"""The audit page: filters, paging both ways, CSV and JSON Lines export of exactly the
filtered events, whole-day date bounds (and the CLI's matching --until / --through),
compact details, chain status, validation, access."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re

import pytest
from sqlalchemy import text

from fedlink import hub_options
from fedlink.cli import main

ROW_SEQ = re.compile(r'<th scope="row">(\d+)')


def _seqs(page: str) -> list[int]:
    return [int(n) for n in ROW_SEQ.findall(page)]


def _link(page: str, text_: str) -> str:
    """The href of the link whose text is ``text_`` (unescaped, as a browser follows it)."""
    match = re.search(r'<a (?:rel="\w+" )?href="([^"]+)"[^>]*>' + re.escape(text_) + "</a>",
                      page)
    assert match, f"no link {text_!r}"
    return html.unescape(match.group(1))


def _viewed(web_hub, rid: str, times: int) -> None:
    """``times`` audited reads of request ``rid`` by a governance member (request.viewed)."""
    governance = web_hub.auth(web_hub.token("governance"))
    for _ in range(times):
        assert web_hub.client.get(f"/v1/requests/{rid}", headers=governance).status_code == 200


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


def test_paging_goes_both_ways_and_keeps_the_filters(web_hub, browser, audit_events) -> None:
    rid = web_hub.submitted_request(web_hub.token("researcher"))
    _viewed(web_hub, rid, 60)
    other = web_hub.submitted_request(web_hub.token("researcher"))
    _viewed(web_hub, other, 3)  # interleaved noise the filter must leave out
    expected = [e["seq"] for e in audit_events(project=rid, action="request.viewed")]
    assert len(expected) == 60
    b = browser(web_hub.token("auditor"))
    first = b.get(f"/audit?project={rid}&action=request.viewed").text
    assert "60 matching events; showing 1–50 of 60." in first
    assert _seqs(first) == expected[:50]
    assert "Previous 50 events" not in first and "First page" not in first
    second = b.get(_link(first, "Next 50 events")).text
    assert "60 matching events; showing 51–60 of 60." in second
    assert _seqs(second) == expected[50:]
    assert "Next 50 events" not in second
    back = _link(second, "Previous 50 events")
    assert f"project={rid}" in back and "action=request.viewed" in back
    assert f"before_seq={expected[50]}" in back
    assert _seqs(b.get(back).text) == expected[:50]
    assert _seqs(b.get(_link(second, "First page")).text) == expected[:50]
    # A backward page that would run past the start is the first page, full.
    assert _seqs(b.get(f"/audit?project={rid}&action=request.viewed"
                       f"&before_seq={expected[10]}").text) == expected[:50]
    beyond = b.get(f"/audit?project={rid}&action=request.viewed&after_seq={expected[-1]}")
    assert "No more events." in beyond.text and _seqs(beyond.text) == []
    assert _seqs(b.get(_link(beyond.text, "Previous 50 events")).text) == expected[10:]


def test_bad_dates_and_cursors_are_field_errors(web_hub, browser) -> None:
    b = browser(web_hub.token("auditor"))
    response = b.get("/audit?since=03/07/2026&through=2026-01-01")
    assert response.status_code == 422
    assert 'id="since-error"' in response.text
    assert 'aria-describedby="since-hint since-error" aria-invalid="true"' in response.text
    reversed_range = b.get("/audit?since=2026-02-01&through=2026-01-31")
    assert reversed_range.status_code == 422 and 'id="through-error"' in reversed_range.text
    assert b.get("/audit?through=9999-12-31").status_code == 422  # no next day to end on
    old_link = b.get("/audit?until=2026-01-01")  # was inclusive here, exclusive in the API
    assert old_link.status_code == 422 and "old “until” date" in old_link.text
    for cursor in ("after_seq=x", "before_seq=-1", "after_seq=3&before_seq=9"):
        response = b.get(f"/audit?{cursor}")
        assert response.status_code == 422, cursor
        assert "The page position is not valid" in response.text
    assert b.get("/audit/export.jsonl?since=2026-13-01").status_code == 422


def test_a_single_day_is_whole(web_hub, browser) -> None:
    today = web_hub.clock().date().isoformat()
    b = browser(web_hub.token("auditor"))
    assert "0 matching events" not in b.get(f"/audit?since={today}&through={today}").text
    assert "0 matching events" in b.get("/audit?through=2000-01-01").text


@pytest.fixture
def midnight(web_hub):
    """Two request.viewed events of one project: at 23:59:30 UTC on a day D and at 00:00
    UTC on D+1 (the hub's clock moved there); D, the project, and their seqs."""
    rid = web_hub.submitted_request(web_hub.token("researcher"))
    governance = web_hub.auth(web_hub.token("governance"))
    day = web_hub.clock().date() + dt.timedelta(days=2)
    seqs = []
    for moment in (dt.datetime.combine(day, dt.time(23, 59, 30), tzinfo=dt.UTC),
                   dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)):
        web_hub.clock.offset += moment - web_hub.clock()
        assert web_hub.client.get(f"/v1/requests/{rid}", headers=governance).status_code == 200
        found = web_hub.client.get("/v1/audit/events", params={
            "project": rid, "action": "request.viewed"},
            headers=web_hub.auth(web_hub.token("auditor"))).json()["events"]
        assert found[-1]["ts"].startswith(moment.isoformat()[:16])
        seqs.append(found[-1]["seq"])
    return day, rid, seqs


def test_through_includes_the_whole_last_day_and_nothing_after(web_hub, browser,
                                                                 midnight) -> None:
    day, rid, (late, next_day) = midnight
    b = browser(web_hub.token("auditor"))  # signed in after the clock moved
    base = f"project={rid}&action=request.viewed"
    assert _seqs(b.get(f"/audit?{base}&since={day}&through={day}").text) == [late]
    assert _seqs(b.get(f"/audit?{base}&through={day}").text) == [late]
    after = day + dt.timedelta(days=1)
    assert _seqs(b.get(f"/audit?{base}&since={after}&through={after}").text) == [next_day]
    exported = b.get(f"/audit/export.jsonl?{base}&through={day}").text.splitlines()
    assert [json.loads(line)["seq"] for line in exported] == [late]
    page = b.get("/audit")
    assert "Through (UTC day, inclusive)" in page.text and 'name="through"' in page.text


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_until_is_exclusive_and_through_inclusive(web_hub, midnight, capsys,
                                                      monkeypatch) -> None:
    day, rid, (late, next_day) = midnight
    monkeypatch.setattr(hub_options, "transport", web_hub.client._transport)
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    monkeypatch.setenv("FEDLINK_TOKEN", web_hub.token("auditor"))
    after = (day + dt.timedelta(days=1)).isoformat()

    def found(*bounds: str) -> list[int]:
        code, out, err = _cli(capsys, "audit", "search", "--project", rid, "--action",
                              "request.viewed", *bounds)
        assert code == 0, err
        return [int(line.split()[0]) for line in out.splitlines()[:-1]]

    assert found("--until", after) == [late]  # midnight of D+1 itself is excluded
    assert found("--until", f"{after}T00:00:00Z") == [late]
    assert found("--until", f"{after}T00:00:01Z") == [late, next_day]
    assert found("--through", day.isoformat()) == [late]  # the page's "Through D"
    assert found("--since", after) == [next_day]
    assert found("--since", day.isoformat(), "--until", day.isoformat()) == []
    code, out, _ = _cli(capsys, "audit", "export", "--project", rid, "--action",
                        "request.viewed", "--through", day.isoformat(), "--format", "jsonl")
    assert code == 0 and [json.loads(line)["seq"] for line in out.splitlines()] == [late]
    code, _, err = _cli(capsys, "audit", "search", "--until", after, "--through", after)
    assert code == 2 and "not both" in err
    code, _, err = _cli(capsys, "audit", "search", "--through", "12/06/2026")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = _cli(capsys, "audit", "search", "--since", "yesterday")
    assert code == 2 and "not an ISO date or time" in err


def test_exports_carry_exactly_the_filters_of_the_page(web_hub, browser, audit_events) -> None:
    rid = web_hub.submitted_request(web_hub.token("researcher"))
    _viewed(web_hub, rid, 55)  # more than one page: the export has them all
    web_hub.submitted_request(web_hub.token("researcher"))
    today = web_hub.clock().date().isoformat()
    expected = [e["seq"] for e in audit_events(project=rid, action="request.")]
    assert len(expected) == 57
    b = browser(web_hub.token("auditor"))
    page = b.get(f"/audit?project={rid}&action=request.&since={today}&through={today}"
                 "&after_seq=1").text
    assert "Export all 57 matching events:" in page
    csv_url, jsonl_url = _link(page, "CSV"), _link(page, "JSON Lines")
    for url in (csv_url, jsonl_url):
        assert f"project={rid}" in url and "action=request." in url, url
        assert f"since={today}" in url and f"through={today}" in url, url
        assert "after_seq" not in url  # every matching event, not the page
    response = b.get(csv_url)
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="hub-audit.csv"' in response.headers["content-disposition"]
    assert [int(r["seq"]) for r in csv.DictReader(io.StringIO(response.text))] == expected
    response = b.get(jsonl_url)
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="hub-audit.jsonl"' in response.headers["content-disposition"]
    events = [json.loads(line) for line in response.text.splitlines()]
    assert [e["seq"] for e in events] == expected
    assert events == audit_events(project=rid, action="request.")  # the API's own export
    assert "Export all" not in b.get("/audit?project=nothing-matches").text


def test_details_are_one_summary_line_with_the_json_inside(web_hub, browser) -> None:
    auditor = web_hub.token("auditor")
    long_actor = "user:" + "9" * 150
    for params in ({"actor": long_actor, "agency": "K12"}, {}):
        web_hub.client.get("/v1/audit/events", params=params, headers=web_hub.auth(auditor))
    b = browser(auditor)
    page = b.get("/audit?action=audit.searched").text
    summary = f"<summary>actor: {long_actor}; agency: K12</summary>"
    assert summary in page
    pretty = json.dumps({"actor": long_actor, "agency": "K12"}, indent=2)
    assert f"<pre>{html.escape(pretty)}</pre>" in page.replace("&#34;", "&quot;")
    assert '<td class="detail">—</td>' in page  # a search without filters has no detail


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
    b.get(f"/audit/export.jsonl?project={rid}")
    later = b.get("/audit?action=audit.exported").text
    assert f"format: csv; project: {rid}</summary>" in later
    assert f"format: jsonl; project: {rid}</summary>" in later


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
    assert browser(web_hub.token("researcher")).get("/audit/export.jsonl").status_code == 403
