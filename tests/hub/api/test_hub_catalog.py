"""The living catalog: node-signed dictionary updates, GET /v1/catalog for every role, the
public summary (no counts), empty years, agency update and re-enrolment with key rotation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from hub.db.models import AuditEvent
from protocol.keyfiles import key_id, public_key_to_b64
from protocol.signing import sign
from protocol.wire import DictionaryUpdate, EnrollmentRequest

JSON = {"Content-Type": "application/json"}

GRADE = {"name": "grade", "type": "integer", "years": [2019, 2020, 2021],
         "classification": "internal", "description": "Grade level",
         "completeness": [{"year": 2019, "percent": 100}, {"year": 2020, "percent": 98},
                          {"year": 2021, "percent": 97}],
         "codes": [{"code": "03", "label": "Grade 3", "count": 412},
                   {"code": "13", "label": "Ungraded", "count": 3}]}


def _update(hub: Any, agency: str, dictionary: list[dict[str, Any]], *,
            key: Ed25519PrivateKey | None = None, published_at: dt.datetime | None = None,
            body_agency: str | None = None) -> bytes:
    body = DictionaryUpdate(agency=body_agency or agency,
                            published_at=published_at or hub.clock(),
                            dictionary=tuple(dictionary))
    return sign(body, typ=DictionaryUpdate.TYP, private_key=key or hub.agencies[agency].key,
                now=int(hub.clock().timestamp())).to_json()


def _publish(hub: Any, agency: str, envelope: bytes) -> Any:
    return hub.client.post("/v1/node/dictionary", content=envelope,
                           headers={**hub.auth(hub.agencies[agency].token), **JSON})


def _events(hub: Any, action: str) -> list[AuditEvent]:
    with hub.ctx.session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_published_dictionary_replaces_catalog_for_every_role(hub) -> None:
    response = _publish(hub, "K12", _update(hub, "K12", [GRADE]))
    assert response.status_code == 200, response.text
    assert response.json()["variables"] == 1
    for role in ("researcher", "steward", "governance", "auditor"):
        rows = hub.client.get("/v1/catalog?agency=K12",
                              headers=hub.auth(hub.token(role, agency="K12"
                                                         if role == "steward" else None)))
        assert rows.status_code == 200, rows.text
        (grade,) = rows.json()
        assert grade["years"] == [2019, 2020, 2021]
        assert grade["completeness"][1] == {"year": 2020, "percent": 98}
    # The small cell (3 < disclosure_min_cell) is never stored, whatever the node sent.
    assert grade["codes"] == [{"code": "03", "label": "Grade 3", "count": 412},
                              {"code": "13", "label": "Ungraded", "count": None}]
    (event,) = _events(hub, "catalog.published")
    assert event.agency == "K12" and event.detail["years_changed"] == ["grade"]


def test_catalog_needs_sign_in(hub) -> None:
    assert hub.client.get("/v1/catalog").status_code == 401


def test_dictionary_signed_with_wrong_key_refused(hub) -> None:
    envelope = _update(hub, "K12", [GRADE], key=Ed25519PrivateKey.generate())
    response = _publish(hub, "K12", envelope)
    assert response.status_code == 401
    assert response.json()["error"] == "unknown_key"
    catalog = hub.client.get("/v1/catalog?agency=K12",
                             headers=hub.auth(hub.token("researcher"))).json()
    assert {v["variable"] for v in catalog} == {"grade", "test_score", "disability"}
    assert catalog[0]["years"] != [2019, 2020, 2021]
    (refused,) = _events(hub, "catalog.publish_refused")
    assert refused.outcome == "refused:unknown_key"


def test_dictionary_of_another_agency_refused(hub) -> None:
    envelope = _update(hub, "K12", [GRADE], key=hub.agencies["K12"].key, body_agency="HE")
    response = _publish(hub, "K12", envelope)
    assert response.status_code == 403
    assert response.json()["error"] == "wrong_agency"


def test_dictionary_replayed_nonce_refused(hub) -> None:
    envelope = _update(hub, "K12", [GRADE])
    assert _publish(hub, "K12", envelope).status_code == 200
    again = _publish(hub, "K12", envelope)
    assert again.status_code == 401
    assert again.json()["error"] == "replayed_nonce"


def test_dictionary_older_than_accepted_one_refused(hub) -> None:
    older = _update(hub, "K12", [GRADE], published_at=hub.clock() - dt.timedelta(minutes=1))
    newer = _update(hub, "K12", [{**GRADE, "years": [2019]}])
    assert _publish(hub, "K12", newer).status_code == 200
    response = _publish(hub, "K12", older)
    assert response.status_code == 409
    assert response.json()["error"] == "stale_dictionary"
    catalog = hub.client.get("/v1/catalog?agency=K12",
                             headers=hub.auth(hub.token("researcher"))).json()
    assert catalog[0]["years"] == [2019]


def test_dictionary_with_identity_variable_refused(hub) -> None:
    body = {"agency": "K12", "published_at": hub.clock().isoformat(),
            "dictionary": [{**GRADE, "name": "ssn"}], "protocol_version": "fedlink/1"}
    envelope = sign(body, typ="dictionary_update", private_key=hub.agencies["K12"].key,
                    now=int(hub.clock().timestamp())).to_json()
    response = _publish(hub, "K12", envelope)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "malformed_message"
    assert response.json()["detail"].startswith("dictionary.0.name")


def test_variable_with_empty_years_refuses_any_years(hub) -> None:
    # HE's "degree" is catalogued with years = [] (tests/hub/conftest.py)
    response = hub.client.post(
        "/v1/requests", headers=hub.auth(hub.token("researcher")),
        json=hub.agreement(variables=[{"agency": "HE", "variables": ["degree"],
                                       "first_year": 2018, "last_year": 2018}]))
    assert response.status_code == 422
    assert "no 'degree' for year(s) 2018" in response.json()["detail"]


def test_new_year_in_dictionary_opens_requests_for_it(hub) -> None:
    researcher = hub.token("researcher")
    ask = hub.agreement(variables=[{"agency": "K12", "variables": ["grade"],
                                    "first_year": 2025, "last_year": 2025}])
    assert hub.client.post("/v1/requests", json=ask,
                           headers=hub.auth(researcher)).status_code == 422
    _publish(hub, "K12", _update(hub, "K12", [{**GRADE, "years": [2024, 2025]}]))
    assert hub.client.post("/v1/requests", json=ask,
                           headers=hub.auth(researcher)).status_code == 201


def test_public_summary_has_no_counts(hub) -> None:
    _publish(hub, "K12", _update(hub, "K12", [
        GRADE, {"name": "note", "description": "", "description_placeholder": True,
                "years": [2020]}]))
    response = hub.client.get("/v1/public/catalog")
    assert response.status_code == 200
    agency = {a["agency"]: a for a in response.json()["agencies"]}["K12"]
    assert agency["variables"] == [
        {"variable": "grade", "description": "Grade level", "years": [2019, 2020, 2021],
         "classification": "internal"},
        {"variable": "note", "description": "", "years": [2020],
         "classification": "confidential"}]
    assert set(agency) == {"agency", "name", "updated_at", "variables"}
    text = response.text
    assert "count" not in text and "percent" not in text and "Ungraded" not in text


def test_agency_add_twice_points_at_update(hub) -> None:
    response = hub.client.post("/v1/agencies", headers=hub.auth(hub.admin_token),
                               json={"code": "K12", "name": "K", "url": "http://k12:8101"})
    assert response.status_code == 409
    assert "agency update" in response.json()["detail"]


def test_agency_update_changes_name_and_url(hub) -> None:
    response = hub.client.patch("/v1/agencies/K12", headers=hub.auth(hub.admin_token),
                                json={"name": "Schools", "url": "https://k12.example:8101"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Schools"
    assert "enrollment_token" not in response.json()
    (event,) = _events(hub, "agency.updated")
    assert event.detail == {"fields": ["name", "url"], "reenrolment_token": False}


def test_agency_update_by_researcher_refused(hub) -> None:
    response = hub.client.patch("/v1/agencies/K12", json={"reenrol": True},
                                headers=hub.auth(hub.token("researcher")))
    assert response.status_code == 403


def test_agency_update_unknown_agency_404(hub) -> None:
    response = hub.client.patch("/v1/agencies/NOPE", json={"name": "x"},
                                headers=hub.auth(hub.admin_token))
    assert response.status_code == 404


def test_agency_update_bad_url_refused(hub) -> None:
    response = hub.client.patch("/v1/agencies/K12", json={"url": "ftp://k12.example"},
                                headers=hub.auth(hub.admin_token))
    assert response.status_code == 422


def _reenrol(hub: Any, code: str, token: str, key: Ed25519PrivateKey) -> Any:
    request = EnrollmentRequest(agency=code, signing_public_key=public_key_to_b64(
        key.public_key()), enrollment_token=token, dictionary=(GRADE,))
    return hub.client.post("/v1/enrollment", content=request.model_dump_json(), headers=JSON)


def test_reenrolment_rotates_key_and_audits_it(hub) -> None:
    old = hub.agencies["K12"]
    issued = hub.client.patch("/v1/agencies/K12", json={"reenrol": True},
                              headers=hub.auth(hub.admin_token))
    assert issued.status_code == 200
    new_key = Ed25519PrivateKey.generate()
    response = _reenrol(hub, "K12", issued.json()["enrollment_token"], new_key)
    assert response.status_code == 200, response.text
    (rotation,) = _events(hub, "agency.key_rotated")
    assert rotation.detail == {"old_signing_kid": key_id(old.key.public_key()),
                               "signing_kid": key_id(new_key.public_key())}
    # The old node token is revoked; the old key signs nothing any more.
    assert hub.client.get("/v1/node/requests", headers=hub.auth(old.token)).status_code == 401
    hub.agencies["K12"] = type(old)(code="K12", key=new_key, token=response.json()["node_token"])
    stale = _update(hub, "K12", [GRADE], key=old.key)
    assert _publish(hub, "K12", stale).json()["error"] == "unknown_key"
    assert _publish(hub, "K12", _update(hub, "K12", [GRADE])).status_code == 200


def test_reenrolment_token_replaces_earlier_unused_token(hub) -> None:
    first = hub.client.patch("/v1/agencies/K12", json={"reenrol": True},
                             headers=hub.auth(hub.admin_token)).json()["enrollment_token"]
    second = hub.client.patch("/v1/agencies/K12", json={"reenrol": True},
                              headers=hub.auth(hub.admin_token)).json()["enrollment_token"]
    response = _reenrol(hub, "K12", first, Ed25519PrivateKey.generate())
    assert response.status_code == 401
    assert response.json()["error"] == "enrollment_token_expired"
    assert _reenrol(hub, "K12", second, Ed25519PrivateKey.generate()).status_code == 200
