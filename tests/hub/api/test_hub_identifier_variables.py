"""The hub's second line: identifier-like variable names are refused in requests, at
enrolment and in published dictionaries; identifier-shaped cohort values in requests."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from hub.db.models import AuditEvent, EnrollmentToken, Request
from protocol.keyfiles import public_key_to_b64
from protocol.signing import sign
from protocol.wire import DictionaryUpdate

JSON = {"Content-Type": "application/json"}


def _requests(hub: Any) -> int:
    with hub.ctx.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Request)) or 0)


@pytest.mark.parametrize("name", ["FIRST_NM", "BIRTH_DT", "student_email", "CLIENT_ID",
                                  "alt_ssn", "ADDR_LINE_1", "guardian_name", "ZIP_CD"])
def test_request_for_identifier_like_variable_refused(hub, name: str) -> None:
    researcher = hub.token("researcher")
    before = _requests(hub)
    ask = [{"agency": "K12", "variables": ["grade", name], "first_year": 2018,
            "last_year": 2019}]
    response = hub.client.post("/v1/requests", json=hub.agreement(variables=ask),
                               headers=hub.auth(researcher))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "identifier_variable"
    assert repr(name) in response.json()["detail"]
    assert _requests(hub) == before


def test_request_with_identifier_in_cohort_condition_refused(hub) -> None:
    researcher = hub.token("researcher")
    ask = [{"agency": "K12", "variables": ["grade"], "first_year": 2018, "last_year": 2019,
            "cohort": {"conditions": [{"kind": "in", "variable": "grade",
                                       "values": ["3", "223-45-6780"]}]}}]
    response = hub.client.post("/v1/requests", json=hub.agreement(variables=ask),
                               headers=hub.auth(researcher))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "identifier_value"
    assert "223-45-6780" not in response.text


def test_request_for_identifier_named_cohort_variable_refused(hub) -> None:
    researcher = hub.token("researcher")
    ask = [{"agency": "K12", "variables": ["grade"], "first_year": 2018, "last_year": 2019,
            "cohort": {"conditions": [{"kind": "equals", "variable": "LAST_NM",
                                       "value": "HOOPER"}]}}]
    response = hub.client.post("/v1/requests", json=hub.agreement(variables=ask),
                               headers=hub.auth(researcher))
    assert response.status_code == 422
    assert response.json()["error"] == "identifier_variable"


def _enrolment(hub: Any, code: str = "DSS") -> dict[str, Any]:
    created = hub.client.post("/v1/agencies", headers=hub.auth(hub.admin_token), json={
        "code": code, "name": "Social services", "url": "http://dss:8101"}).json()
    key = Ed25519PrivateKey.generate()
    return {"agency": code, "signing_public_key": public_key_to_b64(key.public_key()),
            "enrollment_token": created["enrollment_token"],
            "dictionary": [{"name": "benefit", "type": "boolean"},
                           {"name": "student_email", "type": "string"}]}


def test_enrolment_with_identifier_like_variable_refused_and_token_kept(hub) -> None:
    body = _enrolment(hub)
    response = hub.client.post("/v1/enrollment", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "identifier_variable"
    assert "'student_email' (e-mail)" in response.json()["detail"]
    with hub.ctx.session_factory() as session:
        token = session.scalars(select(EnrollmentToken).where(
            EnrollmentToken.agency_code == "DSS")).one()
        assert token.used_at is None  # the node fixes its variables and enrols again
        refused = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "agency.enrollment")).all()
        assert [e.outcome for e in refused] == ["refused:identifier_variable"]
    body["dictionary"] = body["dictionary"][:1]
    assert hub.client.post("/v1/enrollment", json=body).status_code == 200


def test_published_dictionary_with_identifier_like_variable_refused(hub) -> None:
    agency = hub.agencies["K12"]
    update = DictionaryUpdate(agency="K12", published_at=hub.clock(), dictionary=(
        {"name": "grade", "type": "integer"}, {"name": "FIRST_NM", "type": "string"}))
    envelope = sign(update, typ=DictionaryUpdate.TYP, private_key=agency.key,
                    now=int(hub.clock().timestamp())).to_json()
    response = hub.client.post("/v1/node/dictionary", content=envelope,
                               headers={**hub.auth(agency.token), **JSON})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "identifier_variable"
    catalog = hub.client.get("/v1/catalog", headers=hub.auth(hub.token("researcher"))).json()
    assert "FIRST_NM" not in {v["variable"] for v in catalog}
