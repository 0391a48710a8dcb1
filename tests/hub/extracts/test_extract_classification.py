"""Protection that follows classification, with real nodes (docs/classification.md): a
restricted variable never leaves as records; the extract is built with the k, l and t of
the strictest level among its variables, and says so in its disclosure summary."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from agency_node.runtime import NodeRuntime
from agency_node.services.classification import classify
from agency_node.services.dictionary import publish
from hub.domain.classification import ClassificationRules, LevelRule
from hub.persistence import audit as audit_store

Federation = Any  # tests/hub/extracts/conftest.py
SAFE = "school,Female,Male,Total\nOak,*,*,16\nElm,*,*,27\nPine,30,40,70\nTotal,49,64,113\n"


@pytest.fixture
def fed(federation: Federation) -> Iterator[Federation]:
    federation.hub.app.state.node_transport = federation.transport()
    federation.hub.clock.offset = dt.timedelta()
    rules = federation.hub.ctx.settings.classification_rules
    yield federation
    federation.hub.ctx.settings.classification_rules = rules
    _reclassify(federation, "ell", "confidential")


def _reclassify(fed: Federation, variable: str, level: str) -> None:
    """The SCH steward decides ``variable``'s level and publishes the dictionary (real
    node code: node.toml, the node's audit log, a node-signed update to the hub)."""
    node = fed.nodes["SCH"]
    classify(node.dir, variable=variable, level=level)
    with NodeRuntime.open(node.dir) as runtime, fed.node_hub_client(node) as client:
        publish(runtime, client)


def _events(fed: Federation, project: str, action: str) -> list[Any]:
    with fed.hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, project=project, action=action,
                                              limit=1000)
    return list(events)


def _download(fed: Federation, extract_id: str) -> Any:
    return fed.hub.client.get(f"/v1/extracts/{extract_id}/download",
                              headers=fed.hub.auth(fed.researcher[1]))


def test_restricted_variable_cannot_be_downloaded_as_records(fed: Federation) -> None:
    project, _, _ = fed.ready_project()
    built = fed.api_extract(project)
    assert built["status"] == "available" and "ell" in built["variables"]["SCH"]
    _reclassify(fed, "ell", "restricted")
    # The extract already built holds it: no download, audited, no byte of it.
    refused = _download(fed, built["id"])
    assert (refused.status_code, refused.json()["error"]) == (403,
                                                             "record_level_not_allowed")
    assert "SCH.ell (restricted)" in refused.json()["detail"]
    assert refused.headers.get("X-Fedlink-SHA256") is None
    downloads = _events(fed, project, "extract.download_refused")
    assert [e.outcome for e in downloads] == ["refused:record_level_not_allowed"]
    # A new extract holding it is refused before anything is asked of a node.
    asked = fed.hub.client.post("/v1/extracts", json={"project_id": project},
                                headers=fed.hub.auth(fed.researcher[1]))
    assert (asked.status_code, asked.json()["error"]) == (403, "record_level_not_allowed")
    assert [e.outcome for e in _events(fed, project, "extract.refused")] == [
        "refused:record_level_not_allowed"]
    # Without it the project still gets records, and outputs still go to the airlock.
    narrowed = fed.api_extract(project, variables={"SCH": ["grade_level", "gpa", "school"],
                                                   "COL": ["enrolled"]})
    assert narrowed["status"] == "available"
    assert _download(fed, narrowed["id"]).status_code == 200
    output = fed.hub.client.post("/v1/outputs", headers=fed.hub.auth(fed.researcher[1]),
                                 json={"project_id": project, "name": "By school",
                                       "kind": "frequency", "csv": SAFE,
                                       "description": "Counts of students"})
    assert output.status_code == 201, output.text


def test_governance_may_allow_records_of_a_level_again(fed: Federation) -> None:
    project, _, _ = fed.ready_project()
    _reclassify(fed, "ell", "restricted")
    rules = fed.hub.ctx.settings.classification_rules
    fed.hub.ctx.settings.classification_rules = rules.model_copy(update={
        "restricted": rules.restricted.model_copy(update={"record_level_download": True})})
    built = fed.api_extract(project)
    assert built["status"] == "available"
    assert built["disclosure"]["classification"]["strictest_level"] == "restricted"
    assert _download(fed, built["id"]).status_code == 200


def _tables(bundle: bytes) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        report = json.loads(archive.read("disclosure_report.json"))
        tables = {name.split("/")[-1][:-4]: pd.read_csv(io.BytesIO(archive.read(name)),
                                                         dtype=str)
                  for name in archive.namelist()
                  if name.startswith("tables/") and name.endswith(".csv")}
    return report, tables


def test_extract_built_with_the_k_and_l_of_its_strictest_level(fed: Federation) -> None:
    fed.hub.ctx.settings.classification_rules = ClassificationRules(
        internal=LevelRule(min_k=3),
        confidential=LevelRule(min_k=6, l_diversity=2),
        restricted=LevelRule(min_k=6, l_diversity=2, record_level_download=False, quorum=3))
    project, _, _ = fed.ready_project(extract={"formats": ["csv"], "k_anonymity": 3})
    built = fed.api_extract(project)
    summary = built["disclosure"]
    # The agreement said 3; its confidential variables raise it to 6.
    assert summary["k"] == 6
    assert summary["classification"]["strictest_level"] == "confidential"
    sensitive = summary["classification"]["sensitive_result"]
    assert set(sensitive) == {"SCH.grade_level", "SCH.gpa", "COL.enrolled", "COL.credits"}
    assert sum(s["cells_suppressed"] for s in sensitive.values()) > 0
    report, tables = _tables(_download(fed, built["id"]).content)
    assert report["classification"]["sensitive_result"] == sensitive
    sch = tables["agency_SCH"].merge(tables["agency_COL"][["person_id", "county"]],
                                     on="person_id", how="left")
    keys = sch[["school", "ell", "county"]].fillna("<missing>").agg("|".join, axis=1)
    for _key, group in sch.groupby(keys):
        shown = group["gpa"].dropna()
        # Every class shows at least two values of gpa, or none at all.
        assert shown.empty or shown.nunique() >= 2
