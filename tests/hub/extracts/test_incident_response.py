"""Incident response against the extracts federation (two real agency nodes, in process):
one-step containment leaves no token, session or extract of the project usable and every
node refusing the project; the access report lists every access in the hub's log and in
the node logs handed in (docs/incident-response.md)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from agency_node.store import governance as node_governance
from fedlink.commands.incident import node_log_events
from hub.persistence import audit as audit_store
from hub.persistence import extracts as extract_store
from hub.persistence import requests as request_store
from hub.services import web_sessions
from hub.services.governance import project_decisions
from hub.services.terms import request_project_terms
from protocol.governance import Revocation, sign_statement
from protocol.signing import sign
from protocol.wire import MatchRequest, ProjectScope

Federation = Any  # tests/hub/extracts/conftest.py


@pytest.fixture
def fed(federation: Federation) -> Iterator[Federation]:
    """The federation with a researcher of this test's own (containment suspends them)."""
    federation.hub.app.state.node_transport = federation.transport()
    federation.hub.clock.offset = dt.timedelta()
    kept = federation.researcher
    federation.researcher = federation.hub.user("researcher",
                                                email=f"pi-{secrets.token_hex(3)}@uni.example")
    yield federation
    federation.researcher = kept


def _project(fed: Federation) -> tuple[str, dict[str, Any], tuple[int, str]]:
    """A ready project with a built extract, and a second personnel member (id, token)."""
    colleague = f"ra-{secrets.token_hex(3)}@uni.example"
    project, _, _ = fed.ready_project(personnel=[
        {"name": "Dr PI", "role": "PI", "institution": "U", "email": "pi@uni.example"},
        {"name": "RA", "role": "RA", "institution": "U", "email": colleague}])
    extract = fed.api_extract(project)
    return project, extract, fed.hub.user("researcher", email=colleague)


def _open(fed: Federation, project: str) -> str:
    response = fed.hub.client.post("/v1/incidents", headers=fed.hub.auth(fed.governance[0]),
                                   json={"title": "Extract left on a shared drive",
                                         "description": "Found by the agency's audit.",
                                         "found_at": dt.datetime.now(dt.UTC).isoformat(),
                                         "severity": "high", "project_id": project,
                                         "data_involved": [{"agency": "SCH",
                                                            "variables": ["gpa"]}],
                                         "notifiable": True})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "open"
    return str(response.json()["id"])


def _signed_revocation(fed: Federation, project: str) -> dict[str, Any]:
    body = Revocation(project_id=project, reason="incident containment",
                      revoked_at=dt.datetime.now(dt.UTC))
    return dict(json.loads(sign_statement(body, fed.govern()[0]).to_json()))


def _ask_node(fed: Federation, project: str, agency: str) -> Any:
    """A match request signed by the hub's own key, as a run sends it."""
    with fed.hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=project)
        assert request is not None
        salt, dsa = request.project_salt, request.dsa
        terms, decisions = request_project_terms(request), project_decisions(session, request)
    entry = next(e for e in dsa["variables"] if e["agency"] == agency)
    message = MatchRequest(
        project_id=project, agency=agency, project_salt=salt, run_id="after-containment",
        project_terms=terms, governance=decisions,
        scope=ProjectScope(agency=agency, variables=tuple(entry["variables"]),
                           first_year=entry["first_year"], last_year=entry["last_year"],
                           term_start=dsa["term_start"], term_end=dsa["term_end"],
                           matching_authorised=True))
    envelope = sign(message, typ=MatchRequest.TYP, private_key=fed.hub.ctx.keys.signing)
    return fed.nodes[agency].client.post("/v1/match-requests", content=envelope.to_json())


def test_containment_leaves_no_token_session_or_extract_usable_and_every_node_refusing(
        fed: Federation) -> None:
    hub = fed.hub
    project, extract, (_, colleague) = _project(fed)
    researcher = fed.researcher[1]
    with hub.ctx.session_factory() as session:
        cookie = web_sessions.sign_in(session, hub.ctx, token=colleague, source="testclient")
    for agency in fed.nodes:  # before: each node answers the project
        assert _ask_node(fed, project, agency).status_code == 200
    incident = _open(fed, project)

    response = hub.client.post(f"/v1/incidents/{incident}/contain",
                               headers=hub.auth(fed.governance[0]),
                               json={"revocation": _signed_revocation(fed, project)})
    assert response.status_code == 200, response.text
    body = response.json()
    done = body["containment"]
    assert body["status"] == "contained" and done["revocation"] == "signed"
    assert done["project_status"] == "revoked"
    assert (done["nodes_told"], done["nodes_not_told"]) == (["COL", "SCH"], [])
    assert done["extracts_destroyed"] == [extract["id"]] and done["extracts_live"] == []
    assert len(done["personnel"]) == 2 and len(done["users_suspended"]) == 2
    assert len(done["sessions_ended"]) == 1

    # No token of the personnel works, on any route.
    for token in (researcher, colleague):
        me = hub.client.get("/v1/me", headers=hub.auth(token))
        assert (me.status_code, me.json()["error"]) == (401, "invalid_token")
        download = hub.client.get(f"/v1/extracts/{extract['id']}/download",
                                  headers=hub.auth(token))
        assert download.status_code == 401
    # The web session is over; a new token for a suspended account would not help either.
    with hub.ctx.session_factory() as session:
        assert web_sessions.resume(session, hub.ctx, raw=cookie, source="testclient") is None
        row = extract_store.get_extract(session, extract_id=extract["id"])
        assert row is not None and row.status == "destroyed"
        assert extract_store.get_key(session, extract_id=extract["id"]) is None
    assert not (hub.ctx.settings.dir / "extracts" / f"{extract['id']}.flx").exists()
    # Every node holds the signed revocation and refuses the project, whatever the hub asks.
    for agency, node in fed.nodes.items():
        with node.runtime.sessions() as session:
            assert node_governance.get_revocation(session, project_id=project) is not None
        refused = _ask_node(fed, project, agency)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "revoked"
    # The timeline is in the audit log.
    detail = hub.client.get(f"/v1/incidents/{incident}", headers=hub.auth(fed.governance[1]))
    assert [e["action"] for e in detail.json()["timeline"]] == ["incident.opened",
                                                                 "incident.contained"]


def test_containment_without_a_signature_refused_once_a_roster_exists(fed: Federation) -> None:
    project, extract, _ = _project(fed)
    incident = _open(fed, project)
    response = fed.hub.client.post(f"/v1/incidents/{incident}/contain",
                                   headers=fed.hub.auth(fed.governance[0]), json={})
    assert (response.status_code, response.json()["error"]) == (
        422, "signed_revocation_required")
    metadata = fed.hub.client.get(f"/v1/extracts/{extract['id']}",
                                  headers=fed.hub.auth(fed.researcher[1]))
    assert metadata.json()["status"] == "available"  # nothing half done


def test_access_report_lists_every_access_in_the_hub_and_node_logs(fed: Federation) -> None:
    hub = fed.hub
    project, extract, (colleague_id, colleague) = _project(fed)
    for token in (fed.researcher[1], colleague):
        assert hub.client.get(f"/v1/extracts/{extract['id']}/download",
                              headers=hub.auth(token)).status_code == 200
    assert hub.client.get(f"/v1/requests/{project}",
                          headers=hub.auth(fed.governance[1])).status_code == 200
    outsider = hub.user("researcher")
    assert hub.client.get(f"/v1/extracts/{extract['id']}/download",
                          headers=hub.auth(outsider[1])).status_code in (403, 404)
    incident = _open(fed, project)
    for agency, node in fed.nodes.items():
        code, events = node_log_events(node.dir, project)
        assert code == agency and events
        handed = hub.client.post(f"/v1/incidents/{incident}/node-logs",
                                 headers=hub.auth(fed.stewards[agency]),
                                 json={"agency": agency, "events": events})
        assert handed.status_code == 200, handed.text
        assert handed.json()["added"] == len(events)
    other = hub.client.post(f"/v1/incidents/{incident}/node-logs",
                            headers=hub.auth(fed.stewards["SCH"]),
                            json={"agency": "COL", "events": []})
    assert other.status_code == 403  # a steward hands in only its own agency's log

    report = hub.client.get(f"/v1/incidents/{incident}/access-report",
                            headers=hub.auth(fed.governance[0]))
    assert report.status_code == 200, report.text
    answer = report.json()
    with hub.ctx.session_factory() as session:
        logged, _ = audit_store.search_events(session, limit=100_000)
    expected = {e.seq for e in logged if e.object_type != "incident" and (
        e.project == project or (e.object_type == "extract" and e.object_id == extract["id"]))}
    assert {e["seq"] for e in answer["hub_events"]} == expected
    downloads = [e for e in answer["hub_events"] if e["kind"] == "download"]
    assert sorted(e["actor"] for e in downloads) == sorted(
        [f"user:{fed.researcher[0]}", f"user:{colleague_id}"])
    assert all(e["outcome"] == "ok" and e["object_id"] == extract["id"] for e in downloads)
    refused = [e for e in answer["hub_events"] if e["action"] == "extract.download_refused"]
    assert [e["actor"] for e in refused] == [f"user:{outsider[0]}"]
    assert any(e["action"] == "request.viewed" and e["kind"] == "view"
               for e in answer["hub_events"])
    for agency, node in fed.nodes.items():
        _, events = node_log_events(node.dir, project)
        listed = {e["seq"] for e in answer["node_events"] if e["agency"] == agency}
        assert listed == {e["seq"] for e in events}
    assert answer["agencies_reported"] == ["COL", "SCH"]
    counts = {row["actor"]: row for row in answer["by_actor"]}
    assert counts[f"user:{fed.researcher[0]}"]["download"] == 1
