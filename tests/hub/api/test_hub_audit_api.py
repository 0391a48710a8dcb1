"""Audit search, paging, export and on-demand checkpoints through the API."""

from __future__ import annotations

import csv
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
