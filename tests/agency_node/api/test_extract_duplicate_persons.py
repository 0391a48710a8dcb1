"""A node whose person ids may hold duplicates (``[mapping] person_ids = "may_duplicate"``):
one student who moved districts holds two state student ids. The match stream sends each
id as its own unit (the hub deduplicates them); when the hub's extract assigns both units
one hub person id (hub.extracts.assembly.plan_persons), the node answers the rows of both
agency persons under that one id, and neither state id leaves the node."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
import tomlkit
from fastapi.testclient import TestClient

from agency_node.api.app import create_app
from agency_node.ingest.plan import Choices
from agency_node.runtime import NodeRuntime
from agency_node.settings import NodeSettings
from protocol.keys import person_pseudonymous_ids
from protocol.payload import open_payload
from protocol.wire import EXTRACT_PURPOSE, ExtractResponse, extract_payload_context
from tests.agency_node.conftest import enrolled_node, pin_genesis, write_csv

HEADER = ["record_id", "state_student_id", "first_name", "middle_name", "last_name", "dob",
          "sex", "street_address", "postal_code", "school_year", "grade_level", "gpa"]
MARIA = {"first_name": "Maria", "middle_name": "Elena", "last_name": "Garcia",
         "dob": "2004-03-07", "sex": "F", "street_address": "12 Oak St", "postal_code": "23220"}
#: Maria after moving districts: the new district issued her a second state student id.
MOVED = {**MARIA, "street_address": "5 Birch Ct", "postal_code": "22030"}
WILLIAM = {"first_name": "William", "middle_name": "", "last_name": "OBrien",
           "dob": "2003-11-21", "sex": "M", "street_address": "7 Elm St", "postal_code": "22030"}
FIRST_ID, SECOND_ID, WILLIAM_ID = "1000000001", "2000000077", "1000000002"


def _row(record_id: str, person: str, identity: dict[str, str], year: str, grade: str,
         gpa: str) -> dict[str, str]:
    return {"record_id": record_id, "state_student_id": person, **identity,
            "school_year": year, "grade_level": grade, "gpa": gpa}


ROWS = [
    _row("R-0001", FIRST_ID, MARIA, "2019-20", "9", "3.1"),
    _row("R-0002", SECOND_ID, MOVED, "2020-21", "10", "3.2"),
    _row("R-0003", SECOND_ID, MOVED, "2021-22", "11", "3.3"),
    _row("R-0004", WILLIAM_ID, WILLIAM, "2020-21", "10", "2.9"),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, hub: Any) -> Path:
    base = tmp_path_factory.mktemp("duplicate-persons")
    source = write_csv(base / "k12.csv", ROWS, HEADER)
    node_dir = enrolled_node(base, source, hub, Choices(
        person_id="state_student_id", period_column="school_year", year_column=""))
    path = node_dir / "node.toml"
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    doc["mapping"]["person_ids"] = "may_duplicate"  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    with NodeRuntime.open(node_dir) as runtime:
        pin_genesis(runtime)
        assert runtime.settings.node.mapping.person_ids == "may_duplicate"
    return node_dir


@pytest.fixture
def api(template: Path, tmp_path: Path) -> Any:
    node = Path(shutil.copytree(template, tmp_path / "node"))
    with TestClient(create_app(NodeSettings.load(node)), raise_server_exceptions=False) as c:
        yield c


def test_two_ids_of_one_person_answer_under_one_hub_person_id(
        api: TestClient, template: Path, hub: Any, wire: SimpleNamespace) -> None:
    match = api.post("/v1/match-requests",
                     content=wire.signed(wire.match_body(), "match_request", hub.signing))
    assert match.status_code == 200, match.text
    sent = pa.ipc.open_stream(io.BytesIO(match.content)).read_all()
    key = (template / "pseudonym.key").read_bytes()
    first, second, william = person_pseudonymous_ids(key, wire.PROJECT,
                                                     [FIRST_ID, SECOND_ID, WILLIAM_ID])
    # Each state id is a unit of its own: the hub, not the node, decides they are one.
    assert sorted(sent.column("pid").to_pylist()) == sorted([first, second, william])

    assignments = [(first, "hub-p-maria"), (second, "hub-p-maria"),
                   (william, "hub-p-william")]
    body = wire.extract_body(assignments, hub.assembly_kid)
    response = api.post("/v1/extracts",
                        content=wire.signed(body, "extract_request", hub.assembly_signing))
    assert response.status_code == 200, response.text
    answer = ExtractResponse.model_validate(response.json()["body"])
    plaintext = open_payload(answer.payload, hub.assembly, purpose=EXTRACT_PURPOSE,
                             **extract_payload_context(wire.PROJECT, "K12", "run-1"))
    rows = pa.ipc.open_stream(io.BytesIO(plaintext)).read_all().to_pylist()
    maria = sorted((r["period"], r["grade_level"]) for r in rows
                   if r["person_id"] == "hub-p-maria")
    assert maria == [("2019-20", 9), ("2020-21", 10), ("2021-22", 11)]
    assert [r["period"] for r in rows if r["person_id"] == "hub-p-william"] == ["2020-21"]
    assert answer.header.rows == len(rows) == 4
    for needle in (FIRST_ID, SECOND_ID, WILLIAM_ID, "R-000", "Garcia", first, second):
        assert needle.encode() not in plaintext
