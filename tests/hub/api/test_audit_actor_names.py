"""Auditors see who the actors are: each ``user:N`` actor's current name and role in
audit searches and exports (the chain itself keeps ids only)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hub.domain.roles import Caller, Principal
from hub.services import audit_log


def _filters(**given: str) -> dict[str, Any]:
    """The service's filters: every key, unset ones ``None`` (as the route builds them)."""
    return {name: given.get(name) for name in ("actor", "project", "agency", "action",
                                               "since", "until")}


def _reviewed_by_gail(hub: Any) -> tuple[str, int]:
    gail_id, gail = hub.user("governance", name="Gail Governance")
    request_id = hub.submitted_request(hub.token("researcher"))
    assert hub.review(request_id, gail).status_code == 201
    return request_id, gail_id


def test_auditor_search_names_the_actor_and_role(hub: Any) -> None:
    request_id, gail_id = _reviewed_by_gail(hub)
    assert hub.decide(request_id, "K12").status_code == 200
    auditor = hub.auth(hub.token("auditor"))
    page = hub.client.get("/v1/audit/events", params={"project": request_id},
                          headers=auditor).json()
    reviewed = next(e for e in page["events"] if e["action"] == "request.reviewed")
    assert reviewed["actor"] == f"user:{gail_id}"
    assert (reviewed["actor_name"], reviewed["actor_role"]) == ("Gail Governance",
                                                                "governance")
    node = next(e for e in page["events"] if e["action"] == "request.agency_decision")
    assert node["actor"] == "node:K12"
    assert (node["actor_name"], node["actor_role"]) == (None, None)


def test_auditor_exports_carry_names(hub: Any) -> None:
    request_id, gail_id = _reviewed_by_gail(hub)
    auditor = hub.auth(hub.token("auditor"))
    params = {"project": request_id, "action": "request.reviewed"}
    rows = list(csv.DictReader(io.StringIO(hub.client.get(
        "/v1/audit/events", params={**params, "format": "csv"}, headers=auditor).text)))
    assert [(r["actor"], r["actor_name"], r["actor_role"]) for r in rows] == [
        (f"user:{gail_id}", "Gail Governance", "governance")]
    lines = hub.client.get("/v1/audit/events", params={**params, "format": "jsonl"},
                           headers=auditor).text.splitlines()
    assert [json.loads(line)["actor_name"] for line in lines] == ["Gail Governance"]


def test_names_are_not_hashed_and_the_chain_still_verifies(hub: Any) -> None:
    _reviewed_by_gail(hub)
    verdict = hub.client.get("/v1/audit/verify",
                             headers=hub.auth(hub.token("auditor"))).json()
    assert verdict["intact"] is True


def test_callers_without_the_permission_see_ids_only(hub: Any) -> None:
    request_id, gail_id = _reviewed_by_gail(hub)
    filters = _filters(project=request_id, action="request.reviewed")
    admin = Caller(Principal(kind="user", id=1, role="admin"))
    with hub.ctx.session_factory() as session:
        page = audit_log.search(session, hub.ctx, admin, filters=filters, limit=10)
        exported = "".join(audit_log.export(session, hub.ctx, admin, filters=filters,
                                            fmt="csv"))
    assert [e["actor"] for e in page["events"]] == [f"user:{gail_id}"]
    assert "actor_name" not in page["events"][0] and "actor_role" not in page["events"][0]
    assert "actor_name" not in exported.splitlines()[0]
    assert "Gail Governance" not in exported


def test_governance_is_shown_names(hub: Any) -> None:
    request_id, _ = _reviewed_by_gail(hub)
    governance = Caller(Principal(kind="user", id=2, role="governance"))
    with hub.ctx.session_factory() as session:
        page = audit_log.search(session, hub.ctx, governance,
                                filters=_filters(project=request_id,
                                                 action="request.reviewed"), limit=10)
    assert page["events"][0]["actor_name"] == "Gail Governance"


def test_other_roles_cannot_search_the_audit_api(hub: Any) -> None:
    for role in ("researcher", "steward", "governance"):
        kwargs = {"agency": "K12"} if role == "steward" else {}
        response = hub.client.get("/v1/audit/events", headers=hub.auth(hub.token(role, **kwargs)))
        assert response.status_code == 403, role
