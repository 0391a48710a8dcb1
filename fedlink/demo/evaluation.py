"""Linkage quality against the synthetic truth, and the counts of the summary.

The hub never knows a record id, let alone a ``truth_id``. The demo plays every party, so it
may look at each node's own store: it maps the pseudonymous ids each node issued for the
project back to that node's record ids, and those to ``truth_id`` in the node's source CSV,
then joins the hub's clusters (which hold only pseudonymous ids). Scores are pairwise
precision, recall and F1 per agency pair (:mod:`hub.linkage.evaluate`), over the units the
nodes sent for the project.

A unit is what the node sent one token row for: with longitudinal files (a person id
mapped) an **agency person** — all its rows — so the truth is taken per (agency, person id):
every row of the person id must carry one ``truth_id``, and each person id may stand for
one unit only. Two person ids of one true person (a re-registered student) are then a true
pair inside that agency, which a one-to-one linkage cannot make — an honest loss of recall.
Without a person id, a unit is a record, as before.

When this build has no linkage runs, the same figures come from the offline
``fedlink link`` on the three CSVs (the nodes' encoding and the hub's engine, in one
process with throwaway keys) and are labelled as offline linkage; for longitudinal files it
links each agency person's newest row, so it is scored per person as well.
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
    records: int  # units scored: agency persons, or records without person ids
    clusters: int
    unit: str = "records"  # what one scored unit is, for the summary


def _truth(layout: Layout, agency: Agency, person_id: str = "") -> pd.DataFrame:
    """``record_id → truth_id`` of the agency's source; with ``person_id`` (a longitudinal
    file) also the row's person id."""
    columns = ["record_id", "truth_id", *([person_id] if person_id else [])]
    frame = pd.read_csv(layout.source(agency), dtype=str, keep_default_na=False,
                        usecols=columns)
    return frame.rename(columns={person_id: "person_id"}) if person_id else frame


def _person_truth(agency: Agency, truth: pd.DataFrame) -> pd.Series:
    """``person_id → truth_id``: the person id's one true person (a person id carried by
    two true people would make the score meaningless, so it is refused)."""
    held = truth[truth["person_id"] != ""]
    people = held.groupby("person_id")["truth_id"].nunique()
    if (people > 1).any():
        raise ValueError(f"{int((people > 1).sum())} {agency.code} person ids are held by "
                         "two true people in the source")
    return held.drop_duplicates("person_id").set_index("person_id")["truth_id"]


def units_with_truth(agency: Agency, units: pd.DataFrame, truth: pd.DataFrame,
                 longitudinal: bool) -> pd.DataFrame:
    """``units`` (source, cluster_id, record_id[, person_id]) with each unit's truth_id:
    per (agency, person id) for a longitudinal file, per record otherwise."""
    by_record = truth.set_index("record_id")["truth_id"]
    scored = units.assign(truth_id=units["record_id"].map(by_record))
    if not longitudinal:
        return scored
    persons = scored["person_id"].fillna("")
    if persons[persons != ""].duplicated().any():
        twice = int(persons[persons != ""].duplicated().sum())
        raise ValueError(f"{twice} {agency.code} person ids stand for two units: the node "
                         "sent rows, not persons")
    of_person = persons.map(_person_truth(agency, truth))
    scored["truth_id"] = of_person.where(persons != "", scored["truth_id"])
    return scored


def _engine(layout: Layout, agency: Agency) -> Any:
    from agency_node.store.db import open_engine

    return open_engine(f"sqlite:///{layout.node(agency) / 'node.sqlite3'}", migrate=False)


def store_counts(layout: Layout) -> dict[str, dict[str, int]]:
    """Per agency: source rows, records loaded, rows quarantined (latest ingest), and the
    agency persons (distinct person ids) among the records."""
    from agency_node.store.models import IngestRun, Record

    counts: dict[str, dict[str, int]] = {}
    for agency in AGENCIES:
        engine = _engine(layout, agency)
        try:
            with engine.connect() as conn:
                run = conn.execute(select(IngestRun.rows, IngestRun.quarantined)
                                   .order_by(IngestRun.id.desc()).limit(1)).first()
                records = conn.execute(select(func.count()).select_from(Record)).scalar_one()
                persons = conn.execute(select(func.count(func.distinct(Record.person_id))))\
                    .scalar_one()
        finally:
            engine.dispose()
        counts[agency.code] = {"rows": int(run.rows) if run else 0, "records": int(records),
                               "quarantined": int(run.quarantined) if run else 0,
                               "persons": int(persons)}
    return counts


def _issued(layout: Layout, agency: Agency, project_id: str) -> pd.DataFrame:
    """pid → record_id and person_id of what this node sent for the project (its own
    store): for an agency person, the record the node remembered for its pid."""
    from agency_node.store.models import IssuedPid, Record

    engine = _engine(layout, agency)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(IssuedPid.pid, Record.record_id, Record.person_id)
                                .join(Record, Record.id == IssuedPid.record_pk)
                                .where(IssuedPid.project_id == project_id)).all()
    finally:
        engine.dispose()
    return pd.DataFrame(rows, columns=["pid", "record_id", "person_id"], dtype=str)


def _unit(longitudinal: bool) -> str:
    return "agency persons" if longitudinal else "records"


def run_quality(demo: Demo, clusters: Iterable[tuple[str, str, int]]) -> Quality:
    """Scores of the hub's clusters ``(agency, pid, cluster_id)`` of the demo's run."""
    hub = pd.DataFrame(list(clusters), columns=["source", "pid", "cluster_id"])
    hub["pid"] = hub["pid"].astype(str)
    parts = []
    for agency in AGENCIES:
        issued = _issued(demo.layout, agency, demo.request_id)
        truth = _truth(demo.layout, agency, agency.person_id if demo.longitudinal else "")
        mine = hub[hub["source"] == agency.code].merge(issued, on="pid", how="left")
        if mine["record_id"].isna().any():
            missing = int(mine["record_id"].isna().sum())
            raise ValueError(f"{missing} pseudonymous ids of {agency.code} in the hub's "
                             "clusters were never issued by its node")
        parts.append(units_with_truth(agency, mine, truth, demo.longitudinal))
    frame = pd.concat(parts, ignore_index=True)
    return Quality(pairwise_scores(frame), f"hub linkage run {demo.run_id}", len(frame),
                   int(frame["cluster_id"].nunique()), _unit(demo.longitudinal))


def _newest_rows(demo: Demo, agency: Agency) -> Path:
    """A copy of a longitudinal source with each agency person's newest row only (the
    offline linkage has no persons; this keeps its score per person)."""
    frame = pd.read_csv(demo.layout.source(agency), dtype=str, keep_default_na=False)
    newest = frame.drop_duplicates(agency.person_id, keep="last")  # files are in period order
    path = demo.layout.evaluation / agency.source
    newest.drop(columns=[agency.person_id, agency.period]).to_csv(path, index=False)
    return path


def offline_quality(demo: Demo) -> Quality:
    """Scores of the offline ``fedlink link`` on the three source CSVs."""
    out_dir = demo.layout.evaluation
    out_dir.mkdir(parents=True, exist_ok=True)
    clusters_csv = out_dir / "offline-clusters.csv"
    inputs = ([_newest_rows(demo, a) for a in AGENCIES] if demo.longitudinal
              else [demo.layout.source(a) for a in AGENCIES])
    demo.fedlink("link", *(str(p) for p in inputs), "--out",
                 str(clusters_csv), "--report", str(out_dir / "offline-report"),
                 who="demo (evaluation)")
    stems = {Path(a.source).stem: a.code for a in AGENCIES}
    clusters = pd.read_csv(clusters_csv, dtype=str, keep_default_na=False)
    clusters["source"] = clusters["source"].map(stems)
    parts = []
    for agency in AGENCIES:
        truth = _truth(demo.layout, agency, agency.person_id if demo.longitudinal else "")
        mine = clusters[clusters["source"] == agency.code]
        if demo.longitudinal:
            mine = mine.merge(truth[["record_id", "person_id"]], on="record_id", how="left")
        parts.append(units_with_truth(agency, mine, truth, demo.longitudinal))
    frame = pd.concat(parts, ignore_index=True)
    return Quality(pairwise_scores(frame), "offline linkage (fedlink link, no hub run)",
                   len(frame), int(frame["cluster_id"].nunique()), _unit(demo.longitudinal))
