"""The linkage worker against real agency nodes served in process: a run that links and
stores clusters, nodes that refuse, are down, err or send something else, and runs
interrupted by a restart or a shutdown."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import httpx
import pyarrow as pa
import pytest
from sqlalchemy import select, text

from hub.db.base import Base
from hub.db.models import AuditEvent, Job
from hub.metrics import HubMetrics
from hub.persistence import runs as run_store
from hub.persistence.jobs import LeaseLostError
from hub.services import run_state
from hub.services.jobs import JobQueue
from hub.services.run_state import JOB_KIND

NODES = ("HE", "K12")


def events(federation: Any, request_id: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    with federation.hub.ctx.session_factory() as session:
        rows = session.execute(select(AuditEvent.action, AuditEvent.agency, AuditEvent.outcome,
                                      AuditEvent.detail)
                               .where(AuditEvent.project == request_id)
                               .order_by(AuditEvent.seq))
        return [(a, g, o, d) for a, g, o, d in rows]


def actions(federation: Any, request_id: str) -> list[str]:
    return [a for a, *_ in events(federation, request_id)
            if a.startswith(("linkage_run.", "request.linking", "request.ready",
                             "request.link_failed"))
            and a not in ("linkage_run.viewed", "linkage_run.listed")]


def job_of(federation: Any, run_id: str) -> Job:
    with federation.hub.ctx.session_factory() as session:
        run = run_store.get_run(session, run_id=run_id)
        assert run is not None and run.job_id is not None
        job = session.get(Job, run.job_id)
        assert job is not None
        return job


def stored(federation: Any, run_id: str) -> list[tuple[str, str, int]]:
    with federation.hub.ctx.session_factory() as session:
        return [(c.agency, c.pid, c.cluster_id)
                for c in run_store.clusters(session, run_id=run_id)]


def test_run_links_both_nodes_and_stores_clusters(federation: Any) -> None:
    request_id = federation.approved_project()
    run = federation.start_run()
    assert run["status"] == "queued"
    assert federation.hub.status(request_id, federation.researcher) == "linking"

    metrics = HubMetrics()
    assert federation.worker(metrics=metrics).run_once() == run["id"]

    done = federation.run(run["id"])
    assert done["status"] == "succeeded" and done["failure"] is None
    assert metrics.registry.get_sample_value("hub_linkage_runs_total",
                                             {"outcome": "succeeded"}) == 1
    assert metrics.registry.get_sample_value("hub_records_linked_total") == \
        done["counts"]["records_in_linked_clusters"] > 0
    steps = {(s["step"], s.get("agency")): s for s in done["steps"]}
    assert all(s["status"] == "succeeded" for s in steps.values())
    sent = {a: steps[("node", a)]["counts"]["records"] for a in NODES}
    assert sent == {a: len(federation.truth(a)) for a in NODES} and min(sent.values()) > 0
    assert done["counts"]["records"] == sum(sent.values())
    assert done["counts"]["links"] > 0 and done["report"]["summary"]["links"] > 0
    assert done["started_at"] and done["finished_at"] and done["seconds"] >= 0
    assert federation.hub.status(request_id, federation.researcher) == "ready"
    # Every record a node sent is in exactly one cluster, with its node's agency.
    clusters = stored(federation, run["id"])
    assert sorted((a, p) for a, p, _ in clusters) == sorted(
        (a, p) for a in NODES for p in federation.truth(a))
    with federation.hub.ctx.session_factory() as session:
        links = run_store.links(session, run_id=run["id"])
    cluster_of = {(a, p): c for a, p, c in clusters}
    assert links and all(cluster_of[(k.agency_a, k.pid_a)] == cluster_of[(k.agency_b, k.pid_b)]
                         and 0.5 <= k.probability <= 1 for k in links)
    # The links are right: the nodes' own pid → record maps joined with the truth.
    truth = {a: federation.truth(a) for a in NODES}
    right = sum(truth[k.agency_a][k.pid_a] == truth[k.agency_b][k.pid_b] for k in links)
    assert right / len(links) > 0.95
    assert actions(federation, request_id) == [
        "request.linking", "linkage_run.requested", "linkage_run.started",
        "linkage_run.node_answered", "linkage_run.node_answered", "linkage_run.linked",
        "linkage_run.stored", "request.ready"]
    answered = {g: d for a, g, _, d in events(federation, request_id)
                if a == "linkage_run.node_answered"}
    assert {g: d["records"] for g, d in answered.items()} == sent
    assert job_of(federation, run["id"]).status == "succeeded"
    html = federation.hub.client.get(
        f"/v1/requests/{request_id}/runs/{run['id']}/report.html",
        headers=federation.hub.auth(federation.researcher))
    assert html.status_code == 200 and html.text.lstrip().lower().startswith("<!doctype html")


def test_no_identity_value_in_any_hub_table_after_a_run(federation: Any) -> None:
    federation.approved_project()
    run = federation.start_run()
    federation.worker().run_once()
    assert federation.run(run["id"])["status"] == "succeeded"
    with federation.hub.ctx.engine.connect() as connection:
        dump = "\n".join(
            " ".join(str(v) for v in row)
            for table in Base.metadata.sorted_tables
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')))
    upper = dump.upper()
    words = set(re.findall(r"[A-Z0-9][A-Z0-9'-]*", upper))
    numbers = set(re.findall(r"\d+", dump))
    pids = [pid for agency in NODES for pid in federation.truth(agency)]
    assert pids and all(pid in dump for pid in pids)  # the scan sees what the hub holds
    leaked = []
    for agency in NODES:
        for row in federation.source_rows(agency):
            leaked += [v for v in (row["record_id"], row["dob"], row["street_address"])
                       if v and v.upper() in upper]
            leaked += [v for v in (row["first_name"], row["last_name"])
                       if len(v) >= 5 and v.upper() in words]
            ssn = re.sub(r"\D", "", row["ssn"])
            leaked += [f"SSN of {agency}"] if len(ssn) == 9 and ssn in numbers else []
    assert not leaked, f"identity values in hub tables: {leaked[:5]}"


def test_node_that_refuses_fails_the_run_naming_it_and_why(federation: Any) -> None:
    request_id = federation.approved_project()
    federation.withdraw_on_node("HE", request_id)
    run = federation.start_run()
    federation.worker().run_once()

    done = federation.run(run["id"])
    assert done["status"] == "failed"
    assert done["failure"]["agency"] == "HE" and done["failure"]["code"] == "not_approved"
    assert "node HE refused the match request: not_approved (403)" in done["failure"]["reason"]
    he_step = next(s for s in done["steps"] if s.get("agency") == "HE")
    assert he_step["status"] == "failed"
    assert federation.transports["HE"].requests == 1  # a refusal is never retried
    assert federation.hub.status(request_id, federation.researcher) == "approved"
    assert stored(federation, run["id"]) == []
    assert job_of(federation, run["id"]).status == "failed"
    failed = [(g, o, d) for a, g, o, d in events(federation, request_id)
              if a == "linkage_run.failed"]
    assert failed == [("HE", "failed:not_approved", failed[0][2])]
    assert "not_approved" in failed[0][2]["reason"]
    assert actions(federation, request_id)[-1] == "request.link_failed"


def test_node_that_is_down_fails_the_run_after_bounded_retries(federation: Any) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request_id = federation.approved_project()
    federation.move_node("K12", f"http://127.0.0.1:{port}")
    run = federation.start_run()
    federation.worker().run_once()

    failure = federation.run(run["id"])["failure"]
    assert failure["agency"] == "K12" and failure["code"] == "node_unreachable"
    assert "could not be reached (ConnectError)" in failure["reason"]
    assert "gave up after 3 attempts" in failure["reason"]  # node_retries = 2
    assert federation.hub.status(request_id, federation.researcher) == "approved"


class Flaky(httpx.BaseTransport):
    """Answers 503 ``failures`` times, then hands requests to the real node."""

    def __init__(self, node: httpx.BaseTransport, failures: int) -> None:
        self.node, self.failures, self.calls = node, failures, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls <= self.failures:
            return httpx.Response(503, json={"error": "unavailable", "detail": "busy"})
        return self.node.handle_request(request)


def test_node_5xx_is_retried_with_a_fresh_signature_and_the_run_succeeds(
        federation: Any) -> None:
    federation.approved_project()
    flaky = Flaky(federation.transports["K12"], failures=2)
    federation.router.routes["127.0.0.1:18101"] = flaky
    run = federation.start_run()
    federation.worker().run_once()
    done = federation.run(run["id"])
    assert done["status"] == "succeeded"
    k12 = next(s for s in done["steps"] if s.get("agency") == "K12")
    assert k12["counts"]["attempts"] == 3 and flaky.calls == 3


def _arrow(schema: pa.Schema) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_batch(pa.record_batch([pa.array(["x"])], schema=schema))
    return sink.getvalue()


@pytest.mark.parametrize(("answer", "needle"), [
    (httpx.Response(200, content=_arrow(pa.schema([("pid", pa.string())])),
                    headers={"content-type": "application/vnd.apache.arrow.stream"}),
     "schema is not the protocol's token_batch_schema"),
    (httpx.Response(200, json={"records": []}), "not application/vnd.apache.arrow.stream"),
    (httpx.Response(200, content=b"not arrow at all",
                    headers={"content-type": "application/vnd.apache.arrow.stream"}),
     "not an Arrow token stream"),
])
def test_a_stream_that_is_not_token_batches_is_refused(federation: Any,
                                                       answer: httpx.Response,
                                                       needle: str) -> None:
    federation.approved_project()
    federation.router.routes["127.0.0.1:18102"] = httpx.MockTransport(lambda _r: answer)
    run = federation.start_run()
    federation.worker().run_once()
    failure = federation.run(run["id"])["failure"]
    assert (failure["agency"], failure["code"]) == ("HE", "bad_token_stream")
    assert needle in failure["reason"]


def _dead_attempt(federation: Any, run_id: str) -> Any:
    """A worker claims the run, starts it, stores a partial result and dies."""
    queue = JobQueue(federation.hub.ctx.session_factory, clock=federation.hub.ctx.now)
    job = queue.claim("dead-worker", [JOB_KIND], lease_seconds=60)
    assert job is not None
    with federation.hub.ctx.session_factory() as session:
        assert run_state.begin_attempt(session, federation.hub.ctx, job) is not None
    with federation.hub.ctx.session_factory() as session:
        run_store.add_clusters(session, run_id=run_id, rows=[("K12", "ab" * 16, 0)])
        session.commit()
    return job


def test_run_interrupted_by_a_restart_is_reclaimed_and_completes(federation: Any) -> None:
    request_id = federation.approved_project()
    run = federation.start_run()
    dead = _dead_attempt(federation, run["id"])
    assert federation.run(run["id"])["status"] == "running"
    federation.hub.clock.offset += dt.timedelta(seconds=61)  # the lease runs out

    assert federation.worker().run_once() == run["id"]

    done = federation.run(run["id"])
    assert done["status"] == "succeeded" and done["attempt"] == 2
    assert ("K12", "ab" * 16) not in {(a, p) for a, p, _ in stored(federation, run["id"])}
    assert [a for a in actions(federation, request_id) if a.startswith("linkage_run.")][:4] == [
        "linkage_run.requested", "linkage_run.started", "linkage_run.interrupted",
        "linkage_run.resumed"]
    # The presumed-dead worker wakes up: it can change nothing any more.
    with federation.hub.ctx.session_factory() as session, pytest.raises(LeaseLostError):
        run_state.link_progress(session, federation.hub.ctx, dead,
                                run_state.RunPlan(run["id"], request_id, 1, []),
                                stage="fit", completed=1, total=1)


def test_run_interrupted_with_no_attempts_left_fails_with_the_reason(federation: Any) -> None:
    federation.hub.ctx.settings.run_max_attempts = 1
    request_id = federation.approved_project()
    run = federation.start_run()
    _dead_attempt(federation, run["id"])
    federation.hub.clock.offset += dt.timedelta(seconds=61)

    assert federation.worker().run_once() is None  # nothing left to claim

    done = federation.run(run["id"])
    assert done["status"] == "failed" and done["failure"]["code"] == "interrupted"
    assert done["failure"]["reason"].startswith("interrupted by hub restart: worker "
                                                "dead-worker stopped renewing its lease")
    assert stored(federation, run["id"]) == []
    assert federation.hub.status(request_id, federation.researcher) == "approved"


def test_shutdown_hands_the_run_back_and_the_next_worker_completes_it(federation: Any) -> None:
    federation.approved_project()
    run = federation.start_run()
    worker = federation.worker()
    worker.stopping.set()  # shutting down as the run starts
    worker.run_once()
    assert federation.run(run["id"])["status"] == "queued"
    assert job_of(federation, run["id"]).status == "queued"
    assert federation.worker(worker_id="next").run_once() == run["id"]
    assert federation.run(run["id"])["status"] == "succeeded"


def test_project_revoked_before_the_worker_starts_fails_the_run(federation: Any) -> None:
    request_id = federation.approved_project()
    run = federation.start_run()
    revoked = federation.hub.client.post(
        f"/v1/requests/{request_id}/revoke", json={"reason": "agreement breached"},
        headers=federation.hub.auth(federation.governance[1]))
    assert revoked.status_code == 200, revoked.text
    federation.worker().run_once()
    done = federation.run(run["id"])
    assert done["failure"]["code"] == "project_not_linking"
    assert federation.transports["K12"].requests == 0
    assert federation.hub.status(request_id, federation.researcher) == "revoked"


def test_a_second_run_of_a_ready_project_replaces_nothing_until_it_succeeds(
        federation: Any) -> None:
    request_id = federation.approved_project()
    first = federation.start_run()
    federation.worker().run_once()
    federation.withdraw_on_node("K12", request_id)
    second = federation.start_run()
    assert second["status"] == "queued"
    federation.worker().run_once()
    assert federation.run(second["id"])["failure"]["agency"] == "K12"
    # A failed refresh returns the project to ready: the first run's results still stand.
    assert federation.hub.status(request_id, federation.researcher) == "ready"
    assert stored(federation, first["id"])
    with federation.hub.ctx.session_factory() as session:
        latest = run_store.latest_succeeded(session, project_id=request_id)
        assert latest is not None and latest.id == first["id"]


class RevokeFirst(httpx.BaseTransport):
    """Governance revokes the project while the node is being asked."""

    def __init__(self, node: httpx.BaseTransport, revoke: Any) -> None:
        self.node, self.revoke = node, revoke

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.revoke()
        return self.node.handle_request(request)


def test_project_revoked_during_the_run_stores_nothing(federation: Any) -> None:
    request_id = federation.approved_project()

    def revoke() -> None:
        response = federation.hub.client.post(
            f"/v1/requests/{request_id}/revoke", json={"reason": "consent withdrawn"},
            headers=federation.hub.auth(federation.governance[1]))
        assert response.status_code == 200, response.text

    federation.router.routes["127.0.0.1:18102"] = RevokeFirst(federation.transports["HE"],
                                                              revoke)
    run = federation.start_run()
    federation.worker().run_once()
    done = federation.run(run["id"])
    assert done["status"] == "failed" and done["failure"]["code"] == "project_not_linking"
    assert "became revoked during the run; nothing was stored" in done["failure"]["reason"]
    assert stored(federation, run["id"]) == []
    assert federation.hub.status(request_id, federation.researcher) == "revoked"
