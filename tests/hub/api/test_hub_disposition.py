"""`disposition: return` is removed (docs/refresh.md, "Return of data"): new or edited
agreements saying it are refused with the reason, a draft stored with it cannot be
submitted, and an agreement stored with it before still loads and is destroyed like any
other — the extract's terms and README say destroyed, never "destroyed (return)"."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from sqlalchemy import update

from hub.db.models import Request
from hub.extracts.bundle import write_bundle
from hub.persistence import requests as request_store
from hub.services.extract_build import extract_terms
from hub.services.terms import load_dsa

CODE = "disposition_return_unsupported"


def _store_disposition(hub: Any, request_id: str, disposition: str) -> None:
    """As an agreement stored before the option was removed would be."""
    with hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=request_id)
        assert request is not None
        dsa = {**request.dsa, "disposition": disposition}
        session.execute(update(Request).where(Request.id == request_id).values(dsa=dsa))
        session.commit()


def _refused(response: Any) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == CODE
    # The reason, not just the rule: a linked extract holds the other agencies' data.
    assert "return" in body["detail"] and "other" in body["detail"]
    assert "destroy" in body["detail"]


def test_new_agreement_with_return_refused_with_the_reason(hub: Any) -> None:
    researcher = hub.token("researcher")
    response = hub.client.post("/v1/requests", json=hub.agreement(disposition="return"),
                               headers=hub.auth(researcher))
    _refused(response)
    listed = hub.client.get("/v1/requests", headers=hub.auth(researcher)).json()
    assert listed == []  # nothing was drafted


def test_edit_to_return_refused_and_the_draft_unchanged(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = hub.create_request(researcher)
    _refused(hub.client.patch(f"/v1/requests/{request_id}", json={"disposition": "return"},
                              headers=hub.auth(researcher)))
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher))
    assert detail.json()["agreement"]["disposition"] == "destroy"


def test_stored_draft_with_return_cannot_be_submitted_until_edited(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = hub.create_request(researcher)
    _store_disposition(hub, request_id, "return")
    _refused(hub.client.post(f"/v1/requests/{request_id}/submit",
                             headers=hub.auth(researcher)))
    assert hub.status(request_id, researcher) == "draft"
    edited = hub.client.patch(f"/v1/requests/{request_id}", json={"disposition": "destroy"},
                              headers=hub.auth(researcher))
    assert edited.status_code == 200, edited.text
    submitted = hub.client.post(f"/v1/requests/{request_id}/submit",
                                headers=hub.auth(researcher))
    assert submitted.status_code == 200, submitted.text


def test_stored_agreement_with_return_loads_and_is_destroyed(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher)
    _store_disposition(hub, request_id, "return")
    for token in (researcher, hub.token("governance"), hub.token("auditor")):
        detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(token))
        assert detail.status_code == 200, detail.text
        assert detail.json()["agreement"]["disposition"] == "return"
    # The steward's terms keep what was agreed (their digest is what the steward signed).
    assert hub.terms(request_id, "K12")["disposition"] == "return"
    with hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=request_id)
        assert request is not None
        terms = extract_terms(request, load_dsa(request),
                              dt.datetime(2027, 12, 31, tzinfo=dt.UTC))
    assert terms["disposition"] == "destroy"
    sink = io.BytesIO()
    write_bundle(sink, manifest={"extract_id": "ext-1", "project_id": request_id,
                                 "run_id": "run-1", "created_at": "",
                                 "expires_at": "2028-01-01T00:00:00+00:00", "persons": 0},
                 tables={}, formats=["csv"], dictionary=[], quality_report={},
                 disclosure_report={}, terms=terms)
    with zipfile.ZipFile(io.BytesIO(sink.getvalue())) as archive:
        readme = archive.read("README.txt").decode()
    assert "every copy must be destroyed" in readme
    assert "return" not in readme and "(destroy)" not in readme
