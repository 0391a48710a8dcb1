"""Each agency's declaration about its person ids (``unique`` / ``may_duplicate``): stored
from the enrollment request, replaced by every accepted dictionary update, shown by ``GET
/v1/agencies``, audited; an older message without it means ``unique``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from hub.db.models import Agency as AgencyRow
from hub.db.models import AuditEvent
from protocol import PROTOCOL_VERSION
from protocol.keyfiles import public_key_to_b64
from protocol.signing import sign
from protocol.wire import DictionaryUpdate

JSON = {"Content-Type": "application/json"}


def _declared(hub: Any) -> dict[str, str]:
    listed = hub.client.get("/v1/agencies", headers=hub.auth(hub.token("researcher")))
    assert listed.status_code == 200, listed.text
    return {a["code"]: a["person_ids"] for a in listed.json()}


def _stored(hub: Any, code: str) -> str:
    with hub.ctx.session_factory() as session:
        row = session.get(AgencyRow, code)
        assert row is not None
        return row.person_ids


def _publish(hub: Any, agency: str, person_ids: str | None,
             published_at: dt.datetime | None = None) -> Any:
    fields: dict[str, Any] = {"agency": agency,
                              "published_at": published_at or hub.clock(), "dictionary": ()}
    if person_ids is not None:
        fields["person_ids"] = person_ids
    envelope = sign(DictionaryUpdate(**fields), typ=DictionaryUpdate.TYP,
                    private_key=hub.agencies[agency].key, now=int(hub.clock().timestamp()))
    return hub.client.post("/v1/node/dictionary", content=envelope.to_json(),
                           headers={**hub.auth(hub.agencies[agency].token), **JSON})


def _events(hub: Any, action: str) -> list[AuditEvent]:
    with hub.ctx.session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.seq)))


def test_enrollment_stores_the_declaration_and_agencies_list_shows_it(make_hub: Any) -> None:
    hub = make_hub()
    hub.enroll("K12", person_ids="may_duplicate")
    hub.enroll("HE")
    assert _stored(hub, "K12") == "may_duplicate" and _stored(hub, "HE") == "unique"
    assert _declared(hub) == {"K12": "may_duplicate", "HE": "unique"}
    enrolled = {e.agency: e.detail["person_ids"] for e in _events(hub, "agency.enrolled")}
    assert enrolled == {"K12": "may_duplicate", "HE": "unique"}


def test_enrollment_request_of_an_older_node_without_the_field_means_unique(
        make_hub: Any) -> None:
    hub = make_hub()
    added = hub.client.post("/v1/agencies", headers=hub.auth(hub.admin_token),
                            json={"code": "OLD", "name": "Old", "url": "http://old:8101"})
    assert added.status_code == 201, added.text
    key = Ed25519PrivateKey.generate()
    body = {"agency": "OLD", "signing_public_key": public_key_to_b64(key.public_key()),
            "enrollment_token": added.json()["enrollment_token"], "dictionary": []}
    answer = hub.client.post("/v1/enrollment", content=json.dumps(body), headers=JSON)
    assert answer.status_code == 200, answer.text
    assert _stored(hub, "OLD") == "unique"


def test_enrollment_with_an_unknown_declaration_refused_and_token_kept(make_hub: Any) -> None:
    hub = make_hub()
    added = hub.client.post("/v1/agencies", headers=hub.auth(hub.admin_token),
                            json={"code": "K12", "name": "K12", "url": "http://k12:8101"})
    key = Ed25519PrivateKey.generate()
    body = {"agency": "K12", "signing_public_key": public_key_to_b64(key.public_key()),
            "enrollment_token": added.json()["enrollment_token"], "dictionary": [],
            "person_ids": "sometimes"}
    refused = hub.client.post("/v1/enrollment", content=json.dumps(body), headers=JSON)
    assert refused.status_code == 422, refused.text
    assert "person_ids" in refused.text
    # Nothing was enrolled: the same token still enrols a corrected request.
    assert _declared(hub) == {"K12": "unique"}
    with hub.ctx.session_factory() as session:
        row = session.get(AgencyRow, "K12")
        assert row is not None and row.enrolled_at is None
    body["person_ids"] = "may_duplicate"
    accepted = hub.client.post("/v1/enrollment", content=json.dumps(body), headers=JSON)
    assert accepted.status_code == 200, accepted.text
    assert _stored(hub, "K12") == "may_duplicate"


def test_dictionary_update_changes_the_declaration_both_ways(hub: Any) -> None:
    assert _stored(hub, "K12") == "unique"
    answer = _publish(hub, "K12", "may_duplicate")
    assert answer.status_code == 200, answer.text
    assert answer.json()["person_ids"] == "may_duplicate"
    assert _declared(hub)["K12"] == "may_duplicate" and _stored(hub, "HE") == "unique"
    later = hub.clock() + dt.timedelta(seconds=5)
    back = _publish(hub, "K12", "unique", published_at=later)
    assert back.status_code == 200, back.text
    assert _declared(hub)["K12"] == "unique"
    published = [(e.detail["person_ids"], e.detail["person_ids_changed"])
                 for e in _events(hub, "catalog.published")]
    assert published == [("may_duplicate", True), ("unique", True)]


def test_dictionary_update_without_the_field_means_unique(hub: Any) -> None:
    assert _publish(hub, "K12", "may_duplicate").status_code == 200
    older = _publish(hub, "K12", None, published_at=hub.clock() + dt.timedelta(seconds=5))
    assert older.status_code == 200, older.text
    assert _stored(hub, "K12") == "unique"


def test_refused_dictionary_update_leaves_the_declaration(hub: Any) -> None:
    assert _publish(hub, "K12", "may_duplicate").status_code == 200
    # Not newer than the accepted one: refused (stale_dictionary), nothing changes.
    stale = _publish(hub, "K12", "unique", published_at=hub.clock() - dt.timedelta(hours=1))
    assert stale.status_code == 409 and stale.json()["error"] == "stale_dictionary"
    assert _stored(hub, "K12") == "may_duplicate"


def test_signed_dictionary_update_with_an_unknown_declaration_refused(hub: Any) -> None:
    body = {"protocol_version": PROTOCOL_VERSION, "agency": "K12",
            "published_at": hub.clock().isoformat(), "dictionary": [],
            "person_ids": "sometimes"}
    envelope = sign(body, typ=DictionaryUpdate.TYP, private_key=hub.agencies["K12"].key,
                    now=int(hub.clock().timestamp()))
    refused = hub.client.post("/v1/node/dictionary", content=envelope.to_json(),
                              headers={**hub.auth(hub.agencies["K12"].token), **JSON})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "malformed_message"
    assert _stored(hub, "K12") == "unique"
    (event,) = _events(hub, "catalog.publish_refused")
    assert event.outcome == "refused:malformed_message"
