"""The public list's per-process cache (hub.services.public_cache): a write this process
answers is seen at once; a change made elsewhere (another worker process, a CLI command)
only after ``public_cache_seconds``; with 0 there is no cache."""

from __future__ import annotations

from sqlalchemy import text


def _hub(make_hub, seconds: float):
    hub = make_hub(public_cache_seconds=seconds)
    hub.enroll("K12")
    hub.enroll("HE")
    return hub


def _submitted(hub) -> int:
    response = hub.client.get("/v1/public/projects")
    assert response.status_code == 200, response.text
    return int(response.json()["statistics"]["requests_submitted"])


def _submit_elsewhere(hub, request_id: str) -> None:
    # What another hub process would do: change the database, not this app.
    with hub.ctx.engine.begin() as conn:
        conn.execute(text("UPDATE requests SET status = 'submitted', "
                          "first_submitted_at = CURRENT_TIMESTAMP WHERE id = :id"),
                     {"id": request_id})


def test_public_list_change_from_another_process_waits_for_the_cache(make_hub) -> None:
    hub = _hub(make_hub, 60)
    researcher = hub.token("researcher")
    request_id = hub.create_request(researcher)  # a draft: not counted
    assert _submitted(hub) == 0
    _submit_elsewhere(hub, request_id)
    assert _submitted(hub) == 0  # this process's answer is kept
    hub.ctx.public_cache.clear()  # what public_cache_seconds passing does
    assert _submitted(hub) == 1


def test_public_list_write_answered_here_is_seen_at_once(make_hub) -> None:
    hub = _hub(make_hub, 60)
    researcher = hub.token("researcher")
    assert _submitted(hub) == 0
    hub.submitted_request(researcher)  # POSTs answered by this process
    assert _submitted(hub) == 1


def test_public_list_refused_write_keeps_nothing_stale(make_hub) -> None:
    hub = _hub(make_hub, 60)
    researcher = hub.token("researcher")
    request_id = hub.create_request(researcher)
    assert _submitted(hub) == 0
    _submit_elsewhere(hub, request_id)
    # A refused write (401) still empties the cache: a failed write may have committed.
    assert hub.client.post("/v1/requests", json={}).status_code == 401
    assert _submitted(hub) == 1


def test_public_list_without_cache_sees_every_change(make_hub) -> None:
    hub = _hub(make_hub, 0)
    researcher = hub.token("researcher")
    request_id = hub.create_request(researcher)
    assert _submitted(hub) == 0
    _submit_elsewhere(hub, request_id)
    assert _submitted(hub) == 1


def test_public_list_pages_are_kept_apart(make_hub) -> None:
    hub = _hub(make_hub, 60)
    first = hub.client.get("/v1/public/projects", params={"limit": 1}).json()
    other = hub.client.get("/v1/public/projects", params={"limit": 2}).json()
    assert first["page"]["limit"] == 1
    assert other["page"]["limit"] == 2
