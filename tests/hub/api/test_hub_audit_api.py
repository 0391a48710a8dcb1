"""Audit search, paging, export and on-demand checkpoints through the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json


def _auditor(hub):
    return hub.auth(hub.token("auditor"))


def test_search_filters_and_pages(hub) -> None:
    researcher = hub.token("researcher")
    first = hub.submitted_request(researcher)
    hub.submitted_request(researcher)
    headers = _auditor(hub)
    page = hub.client.get(f"/v1/audit/events?project={first}", headers=headers).json()
    assert [e["action"] for e in page["events"]] == ["request.created", "request.submitted"]
    assert all(e["project"] == first for e in page["events"])
    prefix = hub.client.get("/v1/audit/events?action=request.", headers=headers).json()
    assert prefix["total"] == 4
    by_agency = hub.client.get("/v1/audit/events?agency=K12&action=agency.enrolled",
                               headers=headers).json()
    assert by_agency["total"] == 1
    one = hub.client.get("/v1/audit/events?limit=2", headers=headers).json()
    assert len(one["events"]) == 2 and one["next_after_seq"] == one["events"][-1]["seq"]
    two = hub.client.get(f"/v1/audit/events?limit=2&after_seq={one['next_after_seq']}",
                         headers=headers).json()
    assert two["events"][0]["seq"] == one["events"][-1]["seq"] + 1
    since = one["events"][-1]["ts"]
    later = hub.client.get(f"/v1/audit/events?since={since}", headers=headers).json()
    assert all(e["ts"] >= since for e in later["events"])
    nothing = hub.client.get("/v1/audit/events?until=2000-01-01", headers=headers).json()
    assert nothing["total"] == 0


def test_export_csv_and_jsonl(hub) -> None:
    headers = _auditor(hub)
    csv_text = hub.client.get("/v1/audit/events?format=csv", headers=headers)
    assert csv_text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_text.text)))
    assert rows[0]["seq"] == "1" and rows[0]["action"]
    lines = hub.client.get("/v1/audit/events?format=jsonl", headers=headers).text.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["action"] == "audit.exported"


def test_checkpoint_on_demand_and_hub_verdict(hub) -> None:
    auditor = _auditor(hub)
    made = hub.client.post("/v1/audit/checkpoints", headers=auditor)
    assert made.status_code == 201
    state = hub.client.get("/v1/audit/checkpoints", headers=auditor).json()
    assert state["checkpoints"][-1]["seq"] == made.json()["seq"] == state["head"]["seq"]
    verdict = hub.client.get("/v1/audit/verify", headers=auditor).json()
    assert verdict["intact"] is True and verdict["checkpoints"] == 1


def test_bad_audit_query_refused(hub) -> None:
    response = hub.client.get("/v1/audit/events?format=xml", headers=_auditor(hub))
    assert response.status_code == 422
    response = hub.client.get("/v1/audit/events?limit=0", headers=_auditor(hub))
    assert response.status_code == 422


def test_pages_go_back_by_keyset_and_say_where_they_are(hub) -> None:
    headers = _auditor(hub)
    for _ in range(3):
        hub.submitted_request(hub.token("researcher"))
    query = "/v1/audit/events?action=request.&limit=2"
    everything = [e["seq"] for e in hub.client.get("/v1/audit/events?action=request.",
                                                   headers=headers).json()["events"]]
    assert len(everything) == 6
    first = hub.client.get(query, headers=headers).json()
    assert (first["position"], first["total"], first["prev_before_seq"]) == (1, 6, None)
    second = hub.client.get(f"{query}&after_seq={first['next_after_seq']}",
                            headers=headers).json()
    assert second["position"] == 3 and second["prev_before_seq"] == everything[2]
    third = hub.client.get(f"{query}&after_seq={second['next_after_seq']}",
                           headers=headers).json()
    assert [e["seq"] for e in third["events"]] == everything[4:]
    assert third["next_after_seq"] is None  # the last page says so; no empty page after it
    back = hub.client.get(f"{query}&before_seq={third['prev_before_seq']}",
                          headers=headers).json()
    assert back["events"] == second["events"] and back["position"] == 3


def test_time_bounds_are_checked_and_until_is_exclusive(hub) -> None:
    headers = _auditor(hub)
    events = hub.client.get("/v1/audit/events", headers=headers).json()["events"]
    ts = events[1]["ts"]
    # The same instant with an offset: bounds are compared as times, not as text.
    shifted = (dt.datetime.fromisoformat(ts) + dt.timedelta(hours=2)).replace(
        tzinfo=dt.timezone(dt.timedelta(hours=2))).isoformat()
    until = hub.client.get("/v1/audit/events", params={"until": shifted},
                           headers=headers).json()
    assert [e["seq"] for e in until["events"]] == [events[0]["seq"]]
    since = hub.client.get("/v1/audit/events", params={"since": shifted, "limit": 1},
                           headers=headers).json()
    assert since["events"][0]["seq"] == events[1]["seq"]
    for params in ({"since": "yesterday"}, {"until": "2026-02-30"},
                   {"after_seq": 2, "before_seq": 5}):
        response = hub.client.get("/v1/audit/events", params=params, headers=headers)
        assert response.status_code == 422, params
        assert set(response.json()) == {"error", "detail"}, response.text
    response = hub.client.get("/v1/audit/events", params={"until": "x", "format": "csv"},
                              headers=headers)
    assert response.status_code == 422 and response.json()["error"]
