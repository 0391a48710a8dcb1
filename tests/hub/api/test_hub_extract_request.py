"""``POST /v1/extracts`` refuses, before queuing anything, an extract that could only fail:
a run that linked nobody is a 409 ``empty_extract`` (issue 19: it was a 502 from the
assembler although no node or upstream had failed)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select

from hub.db.models import AuditEvent, Extract
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import OPERATOR
from hub.persistence import jobs as job_store
from hub.persistence import requests as request_store
from hub.persistence import runs as run_store
from hub.services.requests import move


def _ready_project(hub: Any, researcher: str,
                   clusters: list[tuple[str, str, int]], **overrides: Any) -> str:
    """Approved by both agencies and two governance members, with a succeeded run whose
    clusters are ``clusters`` (agency, pid, cluster id), then ``ready`` (as the worker
    leaves it)."""
    request_id = hub.submitted_request(researcher, **overrides)
    for agency in ("K12", "HE"):
        assert hub.decide(request_id, agency).status_code == 200
    for _ in range(2):
        assert hub.review(request_id, hub.token("governance")).status_code == 201
    assert hub.status(request_id, researcher) == "approved"
    ctx = hub.ctx
    with ctx.session_factory() as session:
        run_id = f"run-{secrets.token_hex(4)}"
        job = job_store.enqueue(session, kind="linkage_run", payload={"run_id": run_id},
                                project_id=request_id, max_attempts=1, now=ctx.now())
        run = run_store.create_run(session, run_id=run_id, project_id=request_id,
                                   job_id=job.id, previous_status="approved",
                                   requested_by="operator", agencies=["HE", "K12"],
                                   now=ctx.now())
        run_store.add_clusters(session, run_id=run_id, rows=clusters)
        run.status, run.finished_at = "succeeded", ctx.now()
        request = request_store.get_request(session, request_id=request_id, lock=True)
        assert request is not None
        move(session, ctx, OPERATOR, request, RequestStatus.LINKING, action="request.linking")
        move(session, ctx, OPERATOR, request, RequestStatus.READY, action="request.ready")
        session.commit()
    return request_id


def _extracts_and_refusals(hub: Any, project: str) -> tuple[int, list[str]]:
    with hub.ctx.session_factory() as session:
        extracts = session.scalar(select(func.count()).select_from(Extract)
                                  .where(Extract.project_id == project))
        refusals = session.scalars(select(AuditEvent.outcome)
                                   .where(AuditEvent.project == project,
                                          AuditEvent.action == "extract.refused"))
        return int(extracts or 0), list(refusals)


def _hub(make_hub: Any) -> Any:
    hub = make_hub(allow_insecure_http=True)  # the test nodes' URLs are plain http
    hub.enroll("K12")
    hub.enroll("HE")
    return hub


def test_extract_of_a_run_that_linked_nobody_is_a_409_not_a_502(make_hub) -> None:
    hub = _hub(make_hub)
    _, researcher = hub.user("researcher", email="ada@uni.example")
    # Every record alone in its cluster: nobody is in both agencies.
    project = _ready_project(hub, researcher, [("K12", "k-1", 1), ("K12", "k-2", 2),
                                               ("HE", "h-1", 3)])
    response = hub.client.post("/v1/extracts", json={"project_id": project},
                               headers=hub.auth(researcher))
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "empty_extract"
    assert "linked nobody" in body["detail"] and "include_unmatched" in body["detail"]
    # Nothing queued for the assembler; the refusal is audited with its code.
    assert _extracts_and_refusals(hub, project) == (0, ["refused:empty_extract"])


def test_unmatched_records_make_an_extract_when_the_agreement_releases_them(make_hub) -> None:
    hub = _hub(make_hub)
    _, researcher = hub.user("researcher", email="ada@uni.example")
    clusters = [("K12", "k-1", 1), ("HE", "h-1", 2)]
    unmatched = _ready_project(hub, researcher, clusters,
                               extract={"include_unmatched": True})
    linked = _ready_project(hub, researcher, [("K12", "k-1", 1), ("HE", "h-1", 1),
                                              ("K12", "k-2", 2)])
    for project in (unmatched, linked):
        response = hub.client.post("/v1/extracts", json={"project_id": project},
                                   headers=hub.auth(researcher))
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "building"
        assert _extracts_and_refusals(hub, project) == (1, [])
