"""Runs follow each agency's declaration about its person ids: an agency that declared
``may_duplicate`` (node.toml ``[mapping] person_ids``, sent with its dictionary update) is
deduplicated — a person's two records of it end in one cluster and get one project person
id — while the same data from an agency declared ``unique`` is linked one-to-one.

The real hub, worker and nodes (enrollment, governance, the K12 node's signed dictionary
update) of tests/hub/runs/conftest.py; the nodes' token streams are replaced by token
tables made with the engine tests' helpers (tests/hub/linkage/conftest.py: the node's own
normalisation and encoding), so the test knows which records are one person."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from typing import Any

import httpx
import pyarrow as pa
import pytest
import tomlkit
from sqlalchemy import select

from agency_node.services.dictionary import publish
from hub.db.models import AuditEvent
from hub.errors import ExtractBuildError
from hub.extracts.assembly import plan_persons
from hub.persistence import runs as run_store
from hub.services.node_fetch import ARROW_STREAM
from tests.hub.linkage.conftest import make_pid, make_token_table, population

ROUTES = {"K12": "127.0.0.1:18101", "HE": "127.0.0.1:18102"}
#: People with a second K12 record (a student who moved districts and got a second id).
MOVED = 8


class TokenNode(httpx.BaseTransport):
    """A node that answers every match request with one fixed token table."""

    def __init__(self, table: pa.Table) -> None:
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        self.body = sink.getvalue()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": ARROW_STREAM}, content=self.body)


def agencies_data() -> tuple[dict[str, list[dict[str, str]]], dict[str, str]]:
    """K12 and HE records of one population; ``MOVED`` people seen by both agencies hold a
    second K12 record at another address. Returns the records and pid → truth id."""
    a, b = population(n_people=300, seed=11)
    k12 = [dict(r, record_id=f"A{i}") for i, r in enumerate(a)]
    he = [dict(r, record_id=f"B{i}") for i, r in enumerate(b)]
    in_he = {r["truth_id"] for r in he}
    moved = [r for r in k12 if r["truth_id"] in in_he][:MOVED]
    k12 += [dict(r, record_id=f"A-moved-{i}", street_address=f"{100 + i} FAR AWAY RD",
                 city="NORFOLK", postal_code="23510") for i, r in enumerate(moved)]
    truth = {make_pid(r["record_id"]): r["truth_id"] for r in k12 + he}
    return {"K12": k12, "HE": he}, truth


@pytest.fixture
def token_federation(federation: Any) -> tuple[Any, dict[str, str]]:
    records, truth = agencies_data()
    for agency, route in ROUTES.items():
        federation.router.routes[route] = TokenNode(make_token_table(records[agency]))
    return federation, truth


def declare(federation: Any, agency: str, value: str) -> None:
    """The agency's steward sets node.toml's declaration and publishes the dictionary."""
    path = federation.nodes[agency] / "node.toml"
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    doc["mapping"]["person_ids"] = value  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    with federation.runtime(agency) as runtime, federation.node_hub_client(agency) as client:
        publish(runtime, client)


def run_to_end(federation: Any) -> tuple[dict[str, Any], list[tuple[str, str, int]]]:
    run = federation.start_run()
    assert federation.worker().run_once() == run["id"]
    done = federation.run(run["id"])
    assert done["status"] == "succeeded", done["failure"]
    with federation.hub.ctx.session_factory() as session:
        clusters = [(c.agency, c.pid, c.cluster_id)
                    for c in run_store.clusters(session, run_id=run["id"])]
    return done, clusters


def k12_clusters_of_moved(clusters: list[tuple[str, str, int]],
                          truth: dict[str, str]) -> dict[str, set[int]]:
    """For each person with two K12 records: the clusters their K12 pids are in."""
    k12_pids = defaultdict(list)
    for agency, pid, _ in clusters:
        if agency == "K12":
            k12_pids[truth[pid]].append(pid)
    cluster_of = {(a, p): c for a, p, c in clusters}
    return {person: {cluster_of[("K12", p)] for p in pids}
            for person, pids in k12_pids.items() if len(pids) == 2}


def test_run_deduplicates_the_agency_that_declared_may_duplicate(
        token_federation: tuple[Any, dict[str, str]]) -> None:
    federation, truth = token_federation
    federation.approved_project()

    # Both agencies enrolled as "unique": one-to-one, the moved people's two K12 records
    # stay apart and no cluster holds two records of one agency.
    one_to_one, clusters = run_to_end(federation)
    assert one_to_one["deduplicated"] == []
    assert "deduplication" not in one_to_one["report"]
    per_cluster = Counter((agency, cluster) for agency, _pid, cluster in clusters)
    assert max(per_cluster.values()) == 1
    moved = k12_clusters_of_moved(clusters, truth)
    assert len(moved) == MOVED and all(len(c) == 2 for c in moved.values())
    plan_persons(clusters, agencies=["K12", "HE"], include_unmatched=False,
                 deduplicated=one_to_one["deduplicated"])  # a sound one-to-one run

    # K12's steward declares that its ids may hold duplicates; the next run (a refresh)
    # deduplicates K12, and only K12.
    declare(federation, "K12", "may_duplicate")
    listed = federation.hub.client.get("/v1/agencies",
                                       headers=federation.hub.auth(federation.researcher))
    assert {a["code"]: a["person_ids"] for a in listed.json()} == {
        "K12": "may_duplicate", "HE": "unique"}
    deduplicated, clusters = run_to_end(federation)
    assert deduplicated["deduplicated"] == ["K12"]
    report = deduplicated["report"]
    (source,) = report["deduplication"]["sources"]
    assert source["name"] == "K12" and source["within_clusters"] >= MOVED
    assert deduplicated["counts"]["within_source_clusters"] == \
        report["summary"]["within_source_clusters"] >= MOVED
    assert any("Declared to hold duplicates: K12" in a for a in report["assumptions"])
    # Each moved person's two K12 records are one cluster, with their HE record.
    moved = k12_clusters_of_moved(clusters, truth)
    assert len(moved) == MOVED and all(len(c) == 1 for c in moved.values())
    members = defaultdict(list)
    for agency, pid, cluster in clusters:
        members[cluster].append((agency, truth[pid]))
    for person, (cluster,) in moved.items():
        assert sorted(members[cluster]) == [("HE", person), ("K12", person), ("K12", person)]
    # HE stays one-to-one.
    assert max(Counter((a, c) for a, _p, c in clusters if a == "HE").values()) == 1

    # The extract gives both K12 pids of a moved person one project person id ...
    plan = plan_persons(clusters, agencies=["K12", "HE"], include_unmatched=False,
                        deduplicated=deduplicated["deduplicated"])
    for person, (cluster,) in moved.items():
        ids = {plan.person_of[("K12", p)] for a, p, c in clusters
               if a == "K12" and c == cluster}
        assert len(ids) == 1
        assert plan.agencies_of[ids.pop()] == ("HE", "K12")
    # ... and the same clusters are refused for a run that had not deduplicated K12.
    with pytest.raises(ExtractBuildError) as caught:
        plan_persons(clusters, agencies=["K12", "HE"], include_unmatched=False,
                     deduplicated=[])
    assert caught.value.code == "run_inconsistent"

    with federation.hub.ctx.session_factory() as session:
        linked = list(session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "linkage_run.linked")
            .order_by(AuditEvent.seq)))
    assert [d["deduplicated"] for d in linked] == [[], ["K12"]]
