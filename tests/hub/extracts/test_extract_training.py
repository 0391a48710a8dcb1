"""Safe people: personnel download extracts and submit outputs only with a current
completion of every required training, which governance staff record (never the person
themself); a missing or lapsed training is refused 403 ``training_required`` and audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from hub.persistence import audit as audit_store

Federation = Any  # tests/hub/extracts/conftest.py

SAFE = "school,Female,Male,Total\nOak,*,*,16\nElm,*,*,27\nPine,30,40,70\nTotal,49,64,113\n"


@pytest.fixture
def fed(federation: Federation) -> Iterator[Federation]:
    federation.hub.app.state.node_transport = federation.transport()
    federation.hub.clock.offset = dt.timedelta()
    yield federation
    federation.hub.clock.offset = dt.timedelta()


def _untrained(fed: Federation, email: str = "bo@uni.example") -> tuple[int, str]:
    """A researcher on the personnel list with no training recorded (invited and redeemed
    through the API, not the trained test factory)."""
    hub = fed.hub
    invited = hub.client.post("/v1/invitations", headers=hub.auth(hub.admin_token),
                              json={"name": "Bo", "role": "researcher", "email": email})
    assert invited.status_code == 201, invited.text
    redeemed = hub.client.post("/v1/invitations/redeem", json={"code": invited.json()["code"]})
    assert redeemed.status_code == 201, redeemed.text
    return redeemed.json()["id"], redeemed.json()["token"]


def _record(fed: Federation, user_id: int, token: str, *, completed: dt.date,
            expires: dt.date, training: str = "data-privacy") -> Any:
    return fed.hub.client.post(
        f"/v1/users/{user_id}/training", headers=fed.hub.auth(token),
        json={"training": training, "completed_on": completed.isoformat(),
              "expires_on": expires.isoformat()})


def _download(fed: Federation, extract_id: str, token: str) -> Any:
    return fed.hub.client.get(f"/v1/extracts/{extract_id}/download",
                              headers=fed.hub.auth(token))


def _refusals(fed: Federation, action: str, actor: str) -> list[Any]:
    with fed.hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action=action, limit=1000)
    return [e for e in events if e.actor == actor]


def test_person_without_current_training_cannot_download(fed: Federation) -> None:
    project, _, _ = fed.ready_project()
    extract = fed.api_extract(project)
    user_id, token = _untrained(fed)
    refused = _download(fed, extract["id"], token)
    assert refused.status_code == 403
    body = refused.json()
    assert body["error"] == "training_required"
    assert "data-privacy (not recorded)" in body["detail"]
    events = _refusals(fed, "extract.download_refused", f"user:{user_id}")
    assert [e.outcome for e in events] == ["refused:training_required"]
    assert events[0].object_id == extract["id"]
    assert events[0].detail["missing_training"] == [
        {"training": "data-privacy", "expired_on": None}]
    assert "bo@uni.example" not in str(events[0].detail)  # no identity values
    today = fed.hub.clock().date()
    recorded = _record(fed, user_id, fed.governance[0], completed=today,
                       expires=today + dt.timedelta(days=365))
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["current"] is True
    allowed = _download(fed, extract["id"], token)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["X-Fedlink-SHA256"] == extract["sha256"]


def test_lapsed_training_is_refused_and_audited(fed: Federation) -> None:
    project, _, _ = fed.ready_project()
    extract = fed.api_extract(project)
    user_id, token = _untrained(fed)
    today = fed.hub.clock().date()
    yesterday = today - dt.timedelta(days=1)
    recorded = _record(fed, user_id, fed.governance[0],
                       completed=today - dt.timedelta(days=366), expires=yesterday)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["current"] is False
    refused = _download(fed, extract["id"], token)
    assert (refused.status_code, refused.json()["error"]) == (403, "training_required")
    assert f"data-privacy (expired {yesterday.isoformat()})" in refused.json()["detail"]
    events = _refusals(fed, "extract.download_refused", f"user:{user_id}")
    assert [e.detail["missing_training"] for e in events] == [
        [{"training": "data-privacy", "expired_on": yesterday.isoformat()}]]
    # A training that ends today still counts (the expiry is inclusive).
    renewed = _record(fed, user_id, fed.governance[1], completed=today, expires=today)
    assert renewed.status_code == 201, renewed.text
    assert _download(fed, extract["id"], token).status_code == 200


def test_output_submission_refused_without_current_training(fed: Federation) -> None:
    project, _, _ = fed.ready_project()
    user_id, token = _untrained(fed)
    body = {"project_id": project, "name": "Enrolment by school", "kind": "frequency",
            "csv": SAFE}
    refused = fed.hub.client.post("/v1/outputs", json=body, headers=fed.hub.auth(token))
    assert (refused.status_code, refused.json()["error"]) == (403, "training_required")
    events = _refusals(fed, "output.refused", f"user:{user_id}")
    assert [e.outcome for e in events] == ["refused:training_required"]
    assert events[0].project == project
    today = fed.hub.clock().date()
    assert _record(fed, user_id, fed.governance[0], completed=today,
                   expires=today + dt.timedelta(days=30)).status_code == 201
    submitted = fed.hub.client.post("/v1/outputs", json=body, headers=fed.hub.auth(token))
    assert submitted.status_code == 201, submitted.text


def test_researcher_cannot_record_their_own_training(fed: Federation) -> None:
    user_id, token = _untrained(fed, email="cy@uni.example")
    today = fed.hub.clock().date()
    own = _record(fed, user_id, token, completed=today, expires=today)
    assert (own.status_code, own.json()["error"]) == (403, "forbidden")
    gov_id = fed.hub.client.get("/v1/me", headers=fed.hub.auth(fed.governance[0])).json()["id"]
    self_recorded = _record(fed, gov_id, fed.governance[0], completed=today, expires=today)
    assert (self_recorded.status_code, self_recorded.json()["error"]) == (403, "own_training")
    mine = fed.hub.client.get(f"/v1/users/{user_id}/training", headers=fed.hub.auth(token))
    assert (mine.status_code, mine.json()) == (200, [])
    theirs = fed.hub.client.get(f"/v1/users/{fed.researcher[0]}/training",
                                headers=fed.hub.auth(token))
    assert (theirs.status_code, theirs.json()["error"]) == (403, "forbidden")
    with fed.hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action="training.record_refused",
                                              limit=1000)
    assert "refused:own_training" in [e.outcome for e in events]


def test_recorded_training_is_listed_and_bad_dates_refused(fed: Federation) -> None:
    user_id, token = _untrained(fed, email="di@uni.example")
    today = fed.hub.clock().date()
    gov = fed.governance[0]
    future = _record(fed, user_id, gov, completed=today + dt.timedelta(days=2),
                     expires=today + dt.timedelta(days=9))
    assert (future.status_code, future.json()["error"]) == (422, "invalid_request")
    backwards = _record(fed, user_id, gov, completed=today,
                        expires=today - dt.timedelta(days=1))
    assert backwards.status_code == 422
    assert _record(fed, 2**31 - 1, gov, completed=today, expires=today).status_code == 404
    old = _record(fed, user_id, gov, completed=today - dt.timedelta(days=400),
                  expires=today - dt.timedelta(days=35))
    new = _record(fed, user_id, gov, completed=today, expires=today + dt.timedelta(days=365))
    assert old.status_code == new.status_code == 201
    listed = fed.hub.client.get(f"/v1/users/{user_id}/training", headers=fed.hub.auth(token))
    assert listed.status_code == 200
    assert [(r["id"], r["current"]) for r in listed.json()] == [
        (new.json()["id"], True), (old.json()["id"], False)]
    assert listed.json()[0]["recorded_by"].startswith("user:")
