"""API tokens (hashed, expiring, revocable, audited failures) and node enrollment."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from hub.db.models import ApiToken, AuditEvent, EnrollmentToken
from hub.domain.tokens import hash_token
from protocol.keyfiles import public_key_to_b64
from protocol.wire import EnrollmentResponse

JSON = {"Content-Type": "application/json"}


def test_tokens_are_stored_hashed_only(hub) -> None:
    user_id, token = hub.user("auditor")
    with hub.ctx.session_factory() as session:
        rows = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)))
    assert [r.token_hash for r in rows] == [hash_token(token)]
    assert all(token not in str(vars(r)) for r in rows)


def test_expired_token_refused(hub) -> None:
    token = hub.token("auditor")
    assert hub.client.get("/v1/me", headers=hub.auth(token)).status_code == 200
    hub.clock.offset = dt.timedelta(days=hub.ctx.settings.user_token_ttl_days + 1)
    response = hub.client.get("/v1/me", headers=hub.auth(token))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_revoked_token_refused_and_failure_audited(hub) -> None:
    _, token = hub.user("researcher")
    issued = hub.client.post("/v1/me/tokens", json={"label": "laptop"},
                             headers=hub.auth(token)).json()
    assert hub.client.get("/v1/me", headers=hub.auth(issued["token"])).status_code == 200
    revoked = hub.client.delete(f"/v1/tokens/{issued['id']}", headers=hub.auth(hub.admin_token))
    assert revoked.status_code == 200
    response = hub.client.get("/v1/me", headers=hub.auth(issued["token"]))
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token",
                               "detail": "invalid API token: token was revoked"}
    with hub.ctx.session_factory() as session:
        failures = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.failed")))
    assert len(failures) == 1
    assert failures[0].outcome == "refused:invalid_token"
    assert failures[0].source == "testclient"
    assert failures[0].object_id == str(issued["id"])


def test_wrong_role_is_403_and_audited(hub) -> None:
    token = hub.token("researcher")
    response = hub.client.get("/v1/users", headers=hub.auth(token))
    assert response.status_code == 403
    assert "researcher" in response.json()["detail"]
    events = hub.client.get("/v1/audit/events?action=auth.forbidden",
                            headers=hub.auth(hub.token("auditor"))).json()
    assert events["total"] == 1 and events["events"][0]["detail"]["path"] == "/v1/users"


def test_node_token_only_on_node_endpoints(hub) -> None:
    node = hub.agencies["K12"].token
    response = hub.client.get("/v1/catalog", headers=hub.auth(node))
    assert response.status_code == 403
    assert response.json()["error"] == "node_token_not_admitted"
    user = hub.token("steward", agency="K12")
    assert hub.client.get("/v1/node/requests", headers=hub.auth(user)).status_code == 403


def test_steward_must_be_bound_to_an_existing_agency(hub) -> None:
    for body, expected in (
        ({"name": "S", "role": "steward"}, "must be bound to an agency"),
        ({"name": "S", "role": "steward", "agency": "NOPE"}, "does not exist"),
        ({"name": "R", "role": "researcher", "agency": "K12"}, "only stewards"),
        ({"name": "X", "role": "superuser"}, "role"),
    ):
        response = hub.client.post("/v1/invitations", json=body,
                                   headers=hub.auth(hub.admin_token))
        assert response.status_code == 422, body
        assert expected in response.json()["detail"]


def test_enrollment_stores_key_and_catalog_and_answers_hub_keys(make_hub) -> None:
    hub = make_hub()
    agency = hub.enroll("K12")
    catalog = hub.client.get("/v1/catalog", headers=hub.auth(hub.token("researcher"))).json()
    assert {(v["agency"], v["variable"]) for v in catalog} == {
        ("K12", "grade"), ("K12", "test_score"), ("K12", "disability")}
    grade = next(v for v in catalog if v["variable"] == "grade")
    assert grade == {"agency": "K12", "variable": "grade", "description": "Grade level",
                     "type": "integer", "years": list(range(2015, 2025)),
                     "classification": "internal", "quasi_identifier": False,
                     "description_placeholder": False, "completeness": [], "codes": []}
    assert hub.client.get("/v1/node/requests", headers=hub.auth(agency.token)).json() == []


def _enrollment_body(hub, code="DSS"):
    created = hub.client.post("/v1/agencies", headers=hub.auth(hub.admin_token), json={
        "code": code, "name": "Social services", "url": "http://dss:8101"}).json()
    key = Ed25519PrivateKey.generate()
    return {"agency": code, "signing_public_key": public_key_to_b64(key.public_key()),
            "enrollment_token": created["enrollment_token"],
            "dictionary": [{"name": "benefit", "type": "boolean"}]}


def test_enrollment_response_is_valid_and_token_cannot_be_reused(hub) -> None:
    body = _enrollment_body(hub)
    first = hub.client.post("/v1/enrollment", json=body)
    assert first.status_code == 200
    response = EnrollmentResponse.model_validate(first.json())
    assert response.hub_signing_kid == hub.ctx.keys.signing_kid
    assert hub.client.get("/v1/node/requests",
                          headers=hub.auth(response.node_token)).status_code == 200
    again = hub.client.post("/v1/enrollment", json=body)
    assert again.status_code == 409
    assert again.json()["error"] == "enrollment_token_used"


def test_enrollment_with_wrong_or_expired_token_refused(hub) -> None:
    body = _enrollment_body(hub)
    wrong = hub.client.post("/v1/enrollment",
                            json={**body, "enrollment_token": "fle_" + "x" * 40})
    assert wrong.status_code == 401
    other_agency = hub.client.post("/v1/enrollment", json={**body, "agency": "K12"})
    assert other_agency.status_code == 401
    with hub.ctx.session_factory() as session:
        row = session.scalars(select(EnrollmentToken).where(
            EnrollmentToken.agency_code == "DSS")).one()
        assert row.used_at is None
    hub.clock.offset = dt.timedelta(hours=hub.ctx.settings.enrollment_token_ttl_hours + 1)
    expired = hub.client.post("/v1/enrollment", json=body)
    assert expired.status_code == 401
    assert expired.json()["error"] == "enrollment_token_expired"


def test_enrollment_with_identity_variable_in_dictionary_refused(hub) -> None:
    body = _enrollment_body(hub)
    body["dictionary"] = [{"name": "last_name"}]
    response = hub.client.post("/v1/enrollment", json=body)
    assert response.status_code == 422
    assert "identity field" in response.json()["detail"]
    assert "fle_" not in response.text


def test_unknown_route_and_method_give_json_errors(hub) -> None:
    assert hub.client.get("/v1/nothing").json()["error"] == "not_found"
    assert hub.client.put("/health").json()["error"] == "method_not_allowed"
