"""Linkage quality against the synthetic truth, and the counts of the summary.

The hub never knows a record id, let alone a ``truth_id``. The demo plays every party, so
it may look at each node's own store: it maps the pseudonymous ids each node issued for the
project back to that node's record ids, and those to ``truth_id`` in the node's source CSV,
then joins the hub's clusters (which hold only pseudonymous ids). Scores are pairwise
precision, recall and F1 per agency pair (:mod:`hub.linkage.evaluate`), over the records
the nodes sent for the project.

When this build has no linkage runs, the same figures come from the offline
``fedlink link`` on the three CSVs (the nodes' encoding and the hub's engine, in one
process with throwaway keys) and are labelled as offline linkage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from fedlink.demo.federation import AGENCIES, Agency, Layout
from fedlink.demo.state import Demo
from hub.linkage.evaluate import PairScore, pairwise_scores


@dataclass
class Quality:
    scores: list[PairScore]
    source: str  # "hub linkage run R" or "offline linkage (fedlink link)"
    records: int
    clusters: int


def _truth(layout: Layout, agency: Agency) -> pd.DataFrame:
    frame = pd.read_csv(layout.source(agency), dtype=str, keep_default_na=False,
                        usecols=["record_id", "truth_id"])
    return frame


def _engine(layout: Layout, agency: Agency) -> Any:
    from agency_node.store.db import open_engine

    return open_engine(f"sqlite:///{layout.node(agency) / 'node.sqlite3'}", migrate=False)


def store_counts(layout: Layout) -> dict[str, dict[str, int]]:
    """Per agency: source rows, records loaded, rows quarantined (latest ingest)."""
    from agency_node.store.models import IngestRun, Record

    counts: dict[str, dict[str, int]] = {}
    for agency in AGENCIES:
        engine = _engine(layout, agency)
        try:
            with engine.connect() as conn:
                run = conn.execute(select(IngestRun.rows, IngestRun.quarantined)
                                   .order_by(IngestRun.id.desc()).limit(1)).first()
                records = conn.execute(select(func.count()).select_from(Record)).scalar_one()
        finally:
            engine.dispose()
        counts[agency.code] = {"rows": int(run.rows) if run else 0, "records": int(records),
                               "quarantined": int(run.quarantined) if run else 0}
    return counts


def _issued(layout: Layout, agency: Agency, project_id: str) -> pd.DataFrame:
    """pid → record_id of what this node sent for the project (its own store)."""
    from agency_node.store.models import IssuedPid, Record

    engine = _engine(layout, agency)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(IssuedPid.pid, Record.record_id)
                                .join(Record, Record.id == IssuedPid.record_pk)
                                .where(IssuedPid.project_id == project_id)).all()
    finally:
        engine.dispose()
    return pd.DataFrame(rows, columns=["pid", "record_id"], dtype=str)


def run_quality(demo: Demo, clusters: Iterable[tuple[str, str, int]]) -> Quality:
    """Scores of the hub's clusters ``(agency, pid, cluster_id)`` of the demo's run."""
    hub = pd.DataFrame(list(clusters), columns=["source", "pid", "cluster_id"])
    hub["pid"] = hub["pid"].astype(str)
    parts = []
    for agency in AGENCIES:
        issued = _issued(demo.layout, agency, demo.request_id)
        truth = _truth(demo.layout, agency)
        mine = hub[hub["source"] == agency.code].merge(issued, on="pid", how="left")
        if mine["record_id"].isna().any():
            missing = int(mine["record_id"].isna().sum())
            raise ValueError(f"{missing} pseudonymous ids of {agency.code} in the hub's "
                             "clusters were never issued by its node")
        parts.append(mine.merge(truth, on="record_id", how="left"))
    frame = pd.concat(parts, ignore_index=True)
    return Quality(pairwise_scores(frame), f"hub linkage run {demo.run_id}", len(frame),
                   int(frame["cluster_id"].nunique()))


def offline_quality(demo: Demo) -> Quality:
    """Scores of the offline ``fedlink link`` on the three source CSVs."""
    out_dir = demo.layout.evaluation
    out_dir.mkdir(parents=True, exist_ok=True)
    clusters_csv = out_dir / "offline-clusters.csv"
    demo.fedlink("link", *(str(demo.layout.source(a)) for a in AGENCIES), "--out",
                 str(clusters_csv), "--report", str(out_dir / "offline-report"),
                 who="demo (evaluation)")
    stems = {Path(a.source).stem: a.code for a in AGENCIES}
    clusters = pd.read_csv(clusters_csv, dtype=str, keep_default_na=False)
    clusters["source"] = clusters["source"].map(stems)
    parts = [clusters[clusters["source"] == a.code].merge(_truth(demo.layout, a),
                                                           on="record_id", how="left")
             for a in AGENCIES]
    frame = pd.concat(parts, ignore_index=True)
    return Quality(pairwise_scores(frame), "offline linkage (fedlink link, no hub run)",
                   len(frame), int(frame["cluster_id"].nunique()))
