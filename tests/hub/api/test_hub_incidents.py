"""Incidents through the API: the record and who may touch it, containment without a
roster, notifications by e-mail (a local SMTP server) and webhook (a local HTTP server)
with failures kept, closure, and the public statement per policy
(docs/incident-response.md). Containment with real nodes: tests/hub/extracts/
test_incident_response.py."""

from __future__ import annotations

import datetime as dt
import json
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FOUND = "2026-12-01T09:00:00+00:00"


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP: every message received is kept; one address is refused."""

    def handle(self) -> None:
        server: Any = self.server
        self.wfile.write(b"220 test ESMTP\r\n")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ")[0].split(":")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == "MAIL":
                recipients = []
                self.wfile.write(b"250 ok\r\n")
            elif verb == "RCPT":
                address = line.decode().split(":", 1)[1].strip().strip("<>")
                if address in server.refuse:
                    self.wfile.write(b"550 no such mailbox\r\n")
                    continue
                recipients.append(address)
                self.wfile.write(b"250 ok\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                server.received.append((recipients, message_from_bytes(data)))
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class _Webhook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        server: Any = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server.received.append(json.loads(body))
        self.send_response(server.status)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[tuple[Any, Any]]:
    smtp: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    smtp.received, smtp.refuse = [], {"gone@gov.example"}
    webhook: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    webhook.received, webhook.status = [], 204
    for server in (smtp, webhook):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield smtp, webhook
    for server in (smtp, webhook):
        server.shutdown()
        server.server_close()


def approved_project(hub: Any) -> tuple[tuple[int, str], str]:
    researcher = hub.user("researcher", email="ada@uni.example")
    rid = hub.submitted_request(researcher[1])
    for agency in ("K12", "HE"):
        assert hub.decide(rid, agency).status_code == 200
    for _ in range(2):
        assert hub.review(rid, hub.token("governance")).status_code == 201
    assert hub.status(rid, researcher[1]) == "approved"
    return researcher, rid


def open_incident(hub: Any, token: str, rid: str | None, **fields: Any) -> Any:
    body = {"title": "Laptop stolen", "description": "An RA's laptop with the extract.",
            "found_at": FOUND, "severity": "high", "project_id": rid, **fields}
    return hub.client.post("/v1/incidents", json=body, headers=hub.auth(token))


def test_incident_recorded_by_governance_only_and_read_by_auditors(hub: Any) -> None:
    _, rid = approved_project(hub)
    governance = hub.token("governance")
    for role in ("researcher", "steward", "auditor"):
        token = hub.token(role, agency="K12" if role == "steward" else None)
        assert open_incident(hub, token, rid).status_code == 403
    created = open_incident(hub, governance, rid,
                            data_involved=[{"agency": "K12", "variables": ["sped_flag"]}])
    assert created.status_code == 201, created.text
    incident = created.json()
    assert (incident["status"], incident["severity"]) == ("open", "high")
    auditor = hub.token("auditor")
    listed = hub.client.get("/v1/incidents", headers=hub.auth(auditor))
    assert [i["id"] for i in listed.json()] == [incident["id"]]
    shown = hub.client.get(f"/v1/incidents/{incident['id']}", headers=hub.auth(auditor)).json()
    assert [e["action"] for e in shown["timeline"]] == ["incident.opened"]
    assert shown["data_involved"] == [{"agency": "K12", "variables": ["sped_flag"]}]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    late = open_incident(hub, governance, rid, found_at=future)
    assert (late.status_code, late.json()["error"]) == (422, "invalid_request")
    assert open_incident(hub, governance, "prj-nope").status_code == 404


def test_containment_without_a_roster_revokes_at_the_hub_and_locks_the_personnel_out(
        hub: Any) -> None:
    (researcher_id, researcher), rid = approved_project(hub)
    unrelated = hub.token("researcher", email="someone@else.example")
    governance = hub.token("governance")
    incident = open_incident(hub, governance, rid).json()["id"]
    contained = hub.client.post(f"/v1/incidents/{incident}/contain", json={},
                                headers=hub.auth(governance))
    assert contained.status_code == 200, contained.text
    done = contained.json()["containment"]
    assert (done["revocation"], done["project_status"]) == ("hub_only", "revoked")
    assert done["nodes_not_told"] == ["HE", "K12"] and done["personnel"] == [researcher_id]
    assert hub.client.get("/v1/me", headers=hub.auth(researcher)).status_code == 401
    assert hub.client.get("/v1/me", headers=hub.auth(unrelated)).status_code == 200
    again = hub.client.post(f"/v1/incidents/{incident}/contain", json={},
                            headers=hub.auth(governance))
    assert again.status_code == 200 and again.json()["containment"]["tokens_revoked"] == \
        done["tokens_revoked"]
    closed = hub.client.post(f"/v1/incidents/{incident}/close", headers=hub.auth(governance),
                             json={"resolution": "Laptop recovered, disk encrypted."})
    assert closed.json()["status"] == "closed"
    refused = hub.client.post(f"/v1/incidents/{incident}/contain", json={},
                              headers=hub.auth(governance))
    assert (refused.status_code, refused.json()["error"]) == (409, "incident_closed")
    timeline = hub.client.get(f"/v1/incidents/{incident}", headers=hub.auth(governance))
    assert [e["action"] for e in timeline.json()["timeline"]] == [
        "incident.opened", "incident.contained", "incident.contained", "incident.closed"]


def test_open_incident_with_a_project_cannot_be_closed_before_containment(hub: Any) -> None:
    _, rid = approved_project(hub)
    governance = hub.token("governance")
    incident = open_incident(hub, governance, rid).json()["id"]
    response = hub.client.post(f"/v1/incidents/{incident}/close", headers=hub.auth(governance),
                               json={"resolution": "nothing"})
    assert (response.status_code, response.json()["error"]) == (409, "not_contained")


def test_notifications_reach_stewards_and_governance_by_smtp_and_webhook(
        make_hub: Any, servers: tuple[Any, Any]) -> None:
    smtp, webhook = servers
    hub = make_hub(smtp_host="127.0.0.1", smtp_port=smtp.server_address[1],
                   smtp_sender="hub@fed.example",
                   incident_webhook_url=f"http://127.0.0.1:{webhook.server_address[1]}/hook")
    hub.enroll("K12")
    hub.enroll("HE")
    _, rid = approved_project(hub)
    hub.user("steward", agency="K12", email="kay@k12.example")
    hub.user("steward", agency="HE", email="hal@he.example")
    governance = hub.user("governance", email="gov@gov.example")[1]
    hub.user("governance", email="gone@gov.example")
    hub.user("researcher", email="not-told@uni.example")
    incident = open_incident(hub, governance, rid).json()["id"]
    sent = hub.client.post(f"/v1/incidents/{incident}/notify", headers=hub.auth(governance))
    assert sent.status_code == 200, sent.text
    outcomes = {(a["channel"], a["target"]): a["outcome"] for a in sent.json()["attempts"]}
    assert outcomes == {("email", "kay@k12.example"): "sent",
                        ("email", "hal@he.example"): "sent",
                        ("email", "gov@gov.example"): "sent",
                        ("email", "gone@gov.example"): "failed",
                        ("webhook", webhook_url(webhook)): "sent"}
    delivered = {rcpts[0]: message for rcpts, message in smtp.received}
    assert set(delivered) == {"kay@k12.example", "hal@he.example", "gov@gov.example"}
    assert incident in delivered["kay@k12.example"]["Subject"]
    assert delivered["kay@k12.example"]["From"] == "hub@fed.example"
    assert webhook.received[0]["incident"]["id"] == incident
    assert webhook.received[0]["agencies"] == ["HE", "K12"]
    shown = hub.client.get(f"/v1/incidents/{incident}", headers=hub.auth(governance)).json()
    failed = [n for n in shown["notifications"] if n["outcome"] == "failed"]
    assert [n["target"] for n in failed] == ["gone@gov.example"] and "550" in failed[0]["error"]
    assert shown["timeline"][-1]["action"] == "incident.notified"


def webhook_url(server: Any) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/hook"


def test_notification_failures_are_kept_and_the_incident_survives(
        make_hub: Any, servers: tuple[Any, Any]) -> None:
    smtp, webhook = servers
    port = smtp.server_address[1]
    smtp.shutdown()
    smtp.server_close()  # nothing listens there any more
    webhook.status = 500
    hub = make_hub(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=2,
                   incident_webhook_url=webhook_url(webhook))
    hub.enroll("K12")
    hub.enroll("HE")
    _, rid = approved_project(hub)
    hub.user("steward", agency="K12", email="kay@k12.example")
    governance = hub.token("governance")
    incident = open_incident(hub, governance, rid).json()["id"]
    sent = hub.client.post(f"/v1/incidents/{incident}/notify", headers=hub.auth(governance))
    assert sent.status_code == 200, sent.text
    attempts = sent.json()["attempts"]
    assert {(a["channel"], a["outcome"]) for a in attempts} == {("email", "failed"),
                                                                ("webhook", "failed")}
    assert next(a for a in attempts if a["channel"] == "webhook")["error"] == "HTTP 500"
    shown = hub.client.get(f"/v1/incidents/{incident}", headers=hub.auth(governance))
    assert shown.json()["status"] == "open" and len(shown.json()["notifications"]) == 2


def test_public_page_states_notifiable_incidents_as_policy_says(make_hub: Any) -> None:
    hub = make_hub(incident_public_min_severity="high")
    hub.enroll("K12")
    hub.enroll("HE")
    governance = hub.token("governance")
    ids = {}
    for name, severity, notifiable in (("notifiable", "critical", True),
                                       ("minor", "low", True), ("internal", "high", False)):
        ids[name] = open_incident(hub, governance, None, severity=severity,
                                  notifiable=notifiable,
                                  public_summary=f"{name} summary").json()["id"]
    assert hub.client.get("/v1/public/incidents").json() == []  # open: not yet stated
    for incident in ids.values():
        closed = hub.client.post(f"/v1/incidents/{incident}/close",
                                 headers=hub.auth(governance), json={"resolution": "done"})
        assert closed.status_code == 200, closed.text
    public = hub.client.get("/v1/public/incidents").json()
    assert [(p["id"], p["summary"], p["status"]) for p in public] == [
        (ids["notifiable"], "notifiable summary", "closed")]
