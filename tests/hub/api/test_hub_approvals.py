"""The approval rule through the API, with node-signed steward decisions."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from hub.db.models import Request
from protocol.keyfiles import key_id
from protocol.signing import sign
from protocol.wire import StewardDecision


def _setup(hub):
    researcher = hub.token("researcher", email="ada@uni.example")
    return researcher, hub.submitted_request(researcher)


def test_one_agency_missing_not_approved(hub) -> None:
    researcher, request_id = _setup(hub)
    assert hub.decide(request_id, "K12").status_code == 200
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert detail["status"] == "in_review"
    assert detail["waiting_for"] == ["agency HE"]
    assert hub.decide(request_id, "HE").json()["status"] == "approved"


def test_quorum_missing_not_approved(hub) -> None:
    researcher, request_id = _setup(hub)
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    hub.review(request_id, hub.token("governance"))
    assert hub.status(request_id, researcher) == "in_review"


def test_requester_cannot_count_toward_quorum(hub) -> None:
    researcher, request_id = _setup(hub)
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    assert hub.review(request_id, hub.token("governance")).status_code == 201
    # The requester's second account (same email) may not review their own request.
    same_person = hub.token("governance", email="ADA@uni.example")
    response = hub.review(request_id, same_person)
    assert response.status_code == 403
    assert response.json()["error"] == "conflict_of_interest"
    assert hub.status(request_id, researcher) == "in_review"


def test_project_team_member_cannot_review(hub) -> None:
    researcher = hub.token("researcher", email="lead@uni.example")
    request_id = hub.submitted_request(researcher)  # personnel includes ada@uni.example
    response = hub.review(request_id, hub.token("governance", email="ada@uni.example"))
    assert response.status_code == 403


def test_same_member_cannot_review_twice(hub) -> None:
    _, request_id = _setup(hub)
    member = hub.token("governance")
    assert hub.review(request_id, member).status_code == 201
    response = hub.review(request_id, member)
    assert response.status_code == 409
    assert response.json()["error"] == "already_reviewed"


def test_forged_agency_approval_signed_by_another_key_refused(hub) -> None:
    researcher, request_id = _setup(hub)
    forged = hub.decide(request_id, "K12", key=Ed25519PrivateKey.generate())
    assert forged.status_code == 401
    assert forged.json()["error"] == "unknown_key"
    # Another agency's genuine key is not K12's key either.
    response = hub.decide(request_id, "K12", key=hub.agencies["HE"].key)
    assert response.status_code == 401
    events = hub.client.get("/v1/audit/events?action=request.decision_refused",
                            headers=hub.auth(hub.token("auditor"))).json()
    assert events["total"] == 2
    assert hub.client.get(f"/v1/requests/{request_id}",
                          headers=hub.auth(researcher)).json()["agency_decisions"] == []


def test_forged_signature_under_the_agencys_kid_refused(hub) -> None:
    _, request_id = _setup(hub)
    agency = hub.agencies["K12"]
    body = StewardDecision(project_id=request_id, agency="K12", decision="approve",
                           terms_digest=hub.terms(request_id, "K12")["terms_digest"],
                           decided_at=hub.clock())
    genuine = sign(body, typ="steward_decision", private_key=agency.key)
    impostor = sign(body, typ="steward_decision", private_key=Ed25519PrivateKey.generate())
    tampered = genuine.model_copy(update={"sig": impostor.sig})
    assert genuine.kid == key_id(agency.key.public_key())
    response = hub.client.post(f"/v1/node/requests/{request_id}/decision",
                               content=tampered.to_json(), headers=hub.auth(agency.token))
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"


def test_stale_terms_digest_refused(hub) -> None:
    _, request_id = _setup(hub)
    response = hub.decide(request_id, "K12", digest="0" * 64)
    assert response.status_code == 409
    assert response.json()["error"] == "stale_terms"


def test_decision_over_terms_before_changes_is_stale(hub) -> None:
    researcher, request_id = _setup(hub)
    old_digest = hub.terms(request_id, "K12")["terms_digest"]
    hub.review(request_id, hub.token("governance"), "request_changes", "fewer years")
    variables = hub.agreement()["variables"]
    variables[0]["first_year"] = 2019
    edited = hub.client.patch(f"/v1/requests/{request_id}", json={"variables": variables},
                              headers=hub.auth(researcher))
    assert edited.status_code == 200, edited.text
    assert hub.client.post(f"/v1/requests/{request_id}/submit",
                           headers=hub.auth(researcher)).status_code == 200
    assert hub.terms(request_id, "K12")["terms_digest"] != old_digest
    response = hub.decide(request_id, "K12", digest=old_digest)
    assert response.json()["error"] == "stale_terms"


def test_replayed_decision_refused(hub) -> None:
    _, request_id = _setup(hub)
    envelope = hub.decision_envelope(request_id, "K12")
    headers = hub.auth(hub.agencies["K12"].token)
    path = f"/v1/node/requests/{request_id}/decision"
    assert hub.client.post(path, content=envelope, headers=headers).status_code == 200
    replay = hub.client.post(path, content=envelope, headers=headers)
    assert replay.status_code == 401
    assert replay.json()["error"] == "replayed_nonce"


def test_decision_for_another_agency_refused(hub) -> None:
    _, request_id = _setup(hub)
    response = hub.decide(request_id, "K12", body_agency="HE")
    assert response.status_code == 403
    assert response.json()["error"] == "wrong_agency"


def test_one_agency_denying_denies(hub) -> None:
    researcher, request_id = _setup(hub)
    hub.decide(request_id, "HE")
    response = hub.decide(request_id, "K12", "deny", reason="data not fit for purpose")
    assert response.json()["status"] == "denied"
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert detail["denial_category"] == "agency"
    assert detail["decision_reason"] == "K12: data not fit for purpose"
    late = hub.review(request_id, hub.token("governance"))
    assert late.status_code == 409


def test_governance_denial_denies_with_reason(hub) -> None:
    _, request_id = _setup(hub)
    response = hub.review(request_id, hub.token("governance"), "deny", "duplicates project X")
    assert response.json()["status"] == "denied"
    assert response.json()["denial_category"] == "governance"


def test_deny_without_reason_refused(hub) -> None:
    _, request_id = _setup(hub)
    response = hub.client.post(f"/v1/requests/{request_id}/reviews", json={"decision": "deny"},
                               headers=hub.auth(hub.token("governance")))
    assert response.status_code == 422


def test_restricted_variable_needs_stricter_quorum(hub) -> None:
    researcher = hub.token("researcher")
    variables = [{"agency": "K12", "variables": ["disability"], "first_year": 2018,
                  "last_year": 2019}]
    request_id = hub.submitted_request(researcher, variables=variables)
    hub.decide(request_id, "K12")
    for _ in range(2):
        hub.review(request_id, hub.token("governance"))
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert detail["status"] == "in_review"
    assert detail["waiting_for"] == ["1 more governance approval(s)"]
    assert hub.review(request_id, hub.token("governance")).json()["status"] == "approved"


def test_configured_quorum_of_three(make_hub) -> None:
    # The configured quorum is what counts (one below two is refused at load:
    # tests/hub/test_hub_settings_keys.py); here three, above the default two.
    hub = make_hub(governance_quorum=3)
    hub.enroll("K12")
    hub.enroll("HE")
    _, request_id = _setup(hub)
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).json()["status"] == "in_review"
    assert hub.review(request_id, hub.token("governance")).json()["status"] == "approved"


def test_approval_fixes_salt_and_term(hub) -> None:
    _, request_id = _setup(hub)
    with hub.ctx.session_factory() as session:
        assert session.get(Request, request_id).project_salt is None
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    hub.review(request_id, hub.token("governance"))
    hub.review(request_id, hub.token("governance"))
    with hub.ctx.session_factory() as session:
        row = session.scalars(select(Request).where(Request.id == request_id)).one()
        assert row.status == "approved"
        assert row.project_salt and len(row.project_salt) == 43
        assert str(row.approved_term_end) == "2027-12-31"


def test_changes_requested_needs_edit_then_new_round_of_approvals(hub) -> None:
    researcher, request_id = _setup(hub)
    hub.decide(request_id, "K12")
    hub.decide(request_id, "HE")
    g1, g2 = hub.token("governance"), hub.token("governance")
    hub.review(request_id, g1)
    assert hub.review(request_id, g2, "request_changes", "add a security contact").json()[
        "status"] == "changes_requested"
    resubmit = hub.client.post(f"/v1/requests/{request_id}/submit", headers=hub.auth(researcher))
    assert resubmit.status_code == 409
    assert resubmit.json()["error"] == "edit_required"
    hub.client.patch(f"/v1/requests/{request_id}", json={"security_plan": "Better plan."},
                     headers=hub.auth(researcher))
    assert hub.client.post(f"/v1/requests/{request_id}/submit",
                           headers=hub.auth(researcher)).json()["status"] == "submitted"
    # Round 1 approvals do not carry over.
    assert hub.review(request_id, g1).json()["status"] == "in_review"
    assert hub.review(request_id, g2).json()["status"] == "in_review"
    hub.decide(request_id, "K12")
    assert hub.decide(request_id, "HE").json()["status"] == "approved"
