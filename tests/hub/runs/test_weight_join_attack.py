"""Issue 13, attack 5 — "extracts can be tied back to records" — replayed against a real
linkage run and a real extract, and refused.

The attack: whoever holds the hub joins the extract's ``links`` table to the hub's
``linkage_links`` on the exact match weight, maps each extract person to hub pids through
``linkage_clusters``, and then names the record through a node's ``issued_pids``. Now

1. the extract carries no weight and no probability — only a coarse band shared by many
   links — so the join has no key (the band join names almost nobody), and
2. at revocation (or expiry, or certified destruction) the hub purges the project's links and
   clusters, and each node deletes its issued pids when the term ends by its own clock —
   so even a hub that kept a copy of the extract has nothing left to join it to.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections import Counter
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from agency_node.services.purge import sweep as node_sweep
from agency_node.store.models import IssuedPid
from hub.db.models import AuditEvent, RunCluster, RunLink, RunPurge
from hub.extracts.assembly import MATCH_BANDS
from hub.persistence import runs as run_store

from .conftest import NODES


def _extract_links(federation: Any, request_id: str) -> pd.DataFrame:
    """Build the project's extract (the API, then the assembly role in process) and read
    the researcher's ``links`` table out of the downloaded bundle."""
    researcher = federation.hub.auth(federation.researcher)
    asked = federation.hub.client.post("/v1/extracts", headers=researcher,
                                       json={"project_id": request_id})
    assert asked.status_code == 202, asked.text
    assert federation.hub.assemble(federation.router) == 1
    extract = federation.hub.client.get(f"/v1/extracts/{asked.json()['id']}",
                                        headers=researcher).json()
    assert extract["status"] == "available", extract
    bundle = federation.hub.client.get(f"/v1/extracts/{extract['id']}/download",
                                       headers=researcher)
    assert bundle.status_code == 200, bundle.text
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        return pd.read_parquet(io.BytesIO(archive.read("tables/links.parquet")))


def _hub_rows(federation: Any, run_id: str) -> tuple[list[Any], list[Any]]:
    with federation.hub.ctx.session_factory() as session:
        return (run_store.links(session, run_id=run_id),
                run_store.clusters(session, run_id=run_id))


def test_weight_join_on_an_extract_is_refused(federation: Any) -> None:
    request_id = federation.approved_project()
    run = federation.start_run()
    assert federation.worker().run_once() == run["id"]
    assert federation.run(run["id"])["status"] == "succeeded"
    links = _extract_links(federation, request_id)
    hub_links, hub_clusters = _hub_rows(federation, run["id"])
    assert len(links) >= 10 and len(hub_links) >= len(links)

    # 1. No exact weight or probability leaves the hub: the join has no key.
    assert list(links.columns) == ["person_id", "agency_a", "agency_b", "match_band"]
    assert not any(pd.api.types.is_float_dtype(links[c]) for c in links.columns)
    assert set(links["match_band"]) <= {label for label, _ in MATCH_BANDS}
    # The best an attacker can do is join on the band: a person is pinned only when its
    # band holds a single hub link of that agency pair — at most one per band.
    from hub.extracts.assembly import match_band

    per_band = Counter((k.agency_a, k.agency_b, match_band(k.probability)) for k in hub_links)
    pinned = sum(per_band[(a, b, band)] == 1 for a, b, band in
                 links[["agency_a", "agency_b", "match_band"]].itertuples(index=False))
    assert pinned <= len(MATCH_BANDS)
    assert max(per_band.values()) >= 10  # a band is a crowd, not a key

    # 2. The project is revoked: the hub purges its links and clusters at once (audited).
    revoked = federation.hub.client.post(
        f"/v1/requests/{request_id}/revoke", json={"reason": "agreement breached"},
        headers=federation.hub.auth(federation.governance[1]))
    assert revoked.status_code == 200, revoked.text
    hub_links, hub_clusters = _hub_rows(federation, run["id"])
    assert hub_links == [] and hub_clusters == []
    with federation.hub.ctx.session_factory() as session:
        for model in (RunLink, RunCluster):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        purge = session.get(RunPurge, run["id"])
        assert purge is not None and purge.reason == "revoked" and purge.links >= len(links)
        purged = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "linkage.purged", AuditEvent.project == request_id)))
    assert [e.detail["links"] for e in purged] == [purge.links]
    # …and the run's governance-visible record (counts, report) is still there.
    assert federation.run(run["id"])["counts"]["links"] == purge.links

    # 3. When the term ends by each node's own clock, the node deletes its pid → record map:
    #    the last hop of the attack (hub pid → node record) is gone too.
    term_end = dt.date.fromisoformat(federation.agreement()["term_end"])
    after = dt.datetime.combine(term_end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    for agency in NODES:
        assert federation.truth(agency)  # the map exists until then
        with federation.runtime(agency) as runtime:
            assert node_sweep(runtime, now=after)[request_id] > 0
            with runtime.sessions() as session:
                left = session.scalar(select(func.count()).select_from(IssuedPid)
                                      .where(IssuedPid.project_id == request_id))
            assert left == 0
            runtime.audit.verify()
        assert federation.truth(agency) == {}


def test_sweep_purges_links_when_the_term_ends_and_is_idempotent(federation: Any) -> None:
    from hub.domain.roles import OPERATOR
    from hub.services.extract_destruction import sweep

    request_id = federation.approved_project()
    run = federation.start_run()
    assert federation.worker().run_once() == run["id"]
    hub_links, _ = _hub_rows(federation, run["id"])
    assert hub_links
    assert sweep(federation.hub.ctx, OPERATOR)["runs_purged"] == []  # term still running
    federation.hub.clock.offset = dt.timedelta(days=400)
    try:
        done = sweep(federation.hub.ctx, OPERATOR)
        assert request_id in done["projects_expired"] and done["runs_purged"] == [run["id"]]
        assert _hub_rows(federation, run["id"]) == ([], [])
        again = sweep(federation.hub.ctx, OPERATOR)
        assert again["runs_purged"] == []
    finally:
        federation.hub.clock.offset = dt.timedelta()
    with federation.hub.ctx.session_factory() as session:
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "linkage.purged", AuditEvent.project == request_id)))
    assert len(events) == 1 and events[0].detail["reason"] == "expired"
    assert events[0].detail["links"] == len(hub_links)
