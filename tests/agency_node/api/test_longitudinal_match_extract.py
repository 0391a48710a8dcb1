"""A longitudinal source (one row per student per school year under a state student id):
the match stream sends one row per agency person, built from the identity versions of its
rows in the requested years; an extract returns the person's rows across periods."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from agency_node.api.app import create_app
from agency_node.ingest.loader import run_ingest
from agency_node.ingest.plan import Choices
from agency_node.keys import load_federation_secret
from agency_node.runtime import NodeRuntime
from agency_node.services import parallel_encoding
from agency_node.services.gate import ReceivedBody
from agency_node.services.match import authorise_match, stream_tokens
from agency_node.settings import NodeSettings
from agency_node.store.models import AuditEvent, IssuedPid, Record
from protocol.keys import (
    derive_project_keys,
    person_pseudonymous_ids,
    project_salt_bytes,
    pseudonymous_id,
)
from protocol.normalize import NormalizationOptions, normalize_identity
from protocol.payload import open_payload
from protocol.project import ProjectTerms, project_digest
from protocol.tokens import match_keys
from protocol.wire import EXTRACT_PURPOSE, ExtractResponse, extract_payload_context
from tests.agency_node.conftest import enrolled_node, pin_genesis, write_csv
from tests.agency_node.store_backends import STORE_BACKENDS, store_url_on

HEADER = ["record_id", "state_student_id", "first_name", "middle_name", "last_name", "dob",
          "sex", "street_address", "postal_code", "school_year", "grade_level", "gpa"]
MAIDEN = {"first_name": "Maria", "middle_name": "Elena", "last_name": "Garcia",
          "dob": "2004-03-07", "sex": "F", "street_address": "12 Oak St", "postal_code": "23220"}
#: The same student from 2021-22 on: married, moved.
MARRIED = {**MAIDEN, "last_name": "Whitfield", "street_address": "5 Birch Ct",
           "postal_code": "22030"}
#: Her 2018-19 row: outside the requested years, so never one of her versions.
EARLY = {**MAIDEN, "first_name": "Mariah"}
WILLIAM = {"first_name": "William", "middle_name": "", "last_name": "OBrien",
           "dob": "2003-11-21", "sex": "M", "street_address": "7 Elm St", "postal_code": "22030"}
ZOE = {"first_name": "Zoe", "middle_name": "", "last_name": "Nguyen", "dob": "2005-01-15",
       "sex": "F", "street_address": "", "postal_code": "24060"}
DESHAWN = {"first_name": "DeShawn", "middle_name": "", "last_name": "Washington",
           "dob": "2002-07-04", "sex": "M", "street_address": "", "postal_code": "23455"}
MARIA_ID, WILLIAM_ID, DESHAWN_ID = "1000000001", "1000000002", "1000000004"


def _row(record_id: str, person: str, identity: dict[str, str], year: str, grade: str,
         gpa: str) -> dict[str, str]:
    return {"record_id": record_id, "state_student_id": person, **identity,
            "school_year": year, "grade_level": grade, "gpa": gpa}


ROWS = [
    _row("R-0001", MARIA_ID, EARLY, "2018-19", "8", "3.0"),
    _row("R-0004", MARIA_ID, MARRIED, "2021-22", "11", "3.3"),  # not in period order
    _row("R-0002", MARIA_ID, MAIDEN, "2019-20", "9", "3.1"),
    _row("R-0003", MARIA_ID, MAIDEN, "2020-21", "10", "3.2"),
    _row("R-0005", WILLIAM_ID, WILLIAM, "2020-21", "10", "2.9"),
    _row("R-0006", "", ZOE, "2020-21", "8", "3.9"),  # no person id: a unit of its own
    _row("R-0007", DESHAWN_ID, DESHAWN, "2017-18", "12", "3.1"),  # outside the years
]
MATCH, EXTRACT = "match_request", "extract_request"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, hub: Any) -> Path:
    base = tmp_path_factory.mktemp("longitudinal")
    source = write_csv(base / "k12.csv", ROWS, HEADER)
    node_dir = enrolled_node(base, source, hub, Choices(
        person_id="state_student_id", period_column="school_year", year_column=""))
    with NodeRuntime.open(node_dir) as runtime:
        pin_genesis(runtime)
        assert runtime.settings.node.mapping.person_id == "state_student_id"
    return node_dir


@pytest.fixture
def node(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "node"))


@pytest.fixture
def api(node: Path) -> Any:
    with TestClient(create_app(NodeSettings.load(node)), raise_server_exceptions=False) as c:
        yield c


def _match(api: TestClient, hub: Any, wire: SimpleNamespace) -> tuple[pa.Table, dict[str, Any]]:
    body = wire.match_body()
    response = api.post("/v1/match-requests", content=wire.signed(body, MATCH, hub.signing))
    assert response.status_code == 200, response.text
    return pa.ipc.open_stream(io.BytesIO(response.content)).read_all(), body


def _keys(node: Path, body: dict[str, Any]) -> Any:
    terms = ProjectTerms.model_validate(body["project_terms"])
    return derive_project_keys(load_federation_secret(node),
                               project_salt_bytes(body["project_salt"]),
                               project_id=body["project_id"], project_digest=project_digest(terms))


def _name_dob_sex(identity: dict[str, str], keys: Any) -> bytes:
    """The primary name_dob_sex token another agency holding ``identity`` sends."""
    normalised = normalize_identity(identity, NormalizationOptions())
    return match_keys(normalised, keys)["name_dob_sex"][0]


def _rows_by_pid(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {row["pid"]: row for row in table.to_pylist()}


def _pids(node: Path) -> dict[str, str]:
    key = (node / "pseudonym.key").read_bytes()
    persons = dict(zip((MARIA_ID, WILLIAM_ID, DESHAWN_ID), person_pseudonymous_ids(
        key, "P-2026-001", [MARIA_ID, WILLIAM_ID, DESHAWN_ID]), strict=True))
    return {**persons, "R-0006": pseudonymous_id(key, "P-2026-001", "R-0006")}


def test_match_stream_sends_one_row_per_agency_person(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    table, _ = _match(api, hub, wire)
    pids = _pids(node)
    # Maria's three rows in 2019-2021 are one row; DeShawn has no row in those years. The
    # units come in pid order (persons and records mixed), not person-id order.
    assert table.num_rows == 3
    assert table.column("pid").to_pylist() == sorted(
        [pids[MARIA_ID], pids[WILLIAM_ID], pids["R-0006"]])
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        remembered = dict(session.execute(select(IssuedPid.pid, Record.record_id).join(
            Record, Record.id == IssuedPid.record_pk)).all())
    assert (event.outcome, event.details["records"], event.details["persons"],
            event.details["rows"]) == ("answered", 3, 2, 5)
    # A person's pid is remembered with its primary version's newest row: the maiden name
    # two of her three rows hold (R-0002, R-0003), not the one married-name row.
    assert remembered == {pids[MARIA_ID]: "R-0003", pids[WILLIAM_ID]: "R-0005",
                          pids["R-0006"]: "R-0006"}


def test_married_name_person_matches_the_maiden_name_elsewhere(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    table, body = _match(api, hub, wire)
    keys = _keys(node, body)
    rows, pids = _rows_by_pid(table), _pids(node)
    maria = rows[pids[MARIA_ID]]["mk_name_dob_sex"]
    # Another agency knows her only by her maiden name, a third only by her married one:
    # both share a token with the one row this agency sends.
    assert _name_dob_sex(MAIDEN, keys) in maria
    assert _name_dob_sex(MARRIED, keys) in maria
    # The 2018-19 row is outside the requested years: not one of her versions.
    assert _name_dob_sex(EARLY, keys) not in maria
    # The lists keep their fixed length: the hub cannot count her versions.
    william = rows[pids[WILLIAM_ID]]["mk_name_dob_sex"]
    assert len(maria) == len(william)


def test_match_stream_never_splits_a_person_and_pages_give_the_same_rows(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace, monkeypatch: Any
) -> None:
    services = api.app.state.services

    def stream(batch_size: int) -> pa.Table:
        envelope = wire.signed(wire.match_body(), MATCH, hub.signing)
        plan = authorise_match(services, ReceivedBody(data=envelope, too_large=False,
                                                      limit=1 << 20))
        data = b"".join(stream_tokens(services, plan, batch_size=batch_size))
        return pa.ipc.open_stream(io.BytesIO(data)).read_all()

    whole = stream(1000)
    paged = stream(1)  # one unit a page: Maria's rows still make one row
    assert paged.equals(whole)
    # Through the worker pool (one process per CPU), in the same order.
    pools: list[int] = []
    start_pool = parallel_encoding._pool
    monkeypatch.setattr(parallel_encoding, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(parallel_encoding, "_pool",
                        lambda workers: pools.append(workers) or start_pool(workers))
    assert stream(1).equals(whole)
    assert pools or (os.cpu_count() or 1) < 2


def _extract(api: TestClient, hub: Any, wire: SimpleNamespace,
             assignments: list[tuple[str, str]]) -> Any:
    body = wire.extract_body(assignments, hub.assembly_kid)
    return api.post("/v1/extracts", content=wire.signed(body, EXTRACT, hub.assembly_signing))


def _payload(response: Any, hub: Any, wire: SimpleNamespace) -> tuple[ExtractResponse, bytes]:
    assert response.status_code == 200, response.text
    answer = ExtractResponse.model_validate(response.json()["body"])
    plaintext = open_payload(answer.payload, hub.assembly, purpose=EXTRACT_PURPOSE,
                             **extract_payload_context(wire.PROJECT, "K12", "run-1"))
    return answer, plaintext


def test_extract_returns_a_persons_rows_across_periods(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    table, _ = _match(api, hub, wire)
    pids = table.column("pid").to_pylist()
    unit = _pids(node)
    assert set(pids) == {unit[MARIA_ID], unit[WILLIAM_ID], unit["R-0006"]}
    assignments = [(unit[MARIA_ID], "hub-p-maria"), (unit[WILLIAM_ID], "hub-p-william"),
                   (unit["R-0006"], "hub-p-zoe")]
    answer, plaintext = _payload(_extract(api, hub, wire, assignments), hub, wire)
    rows = pa.ipc.open_stream(io.BytesIO(plaintext)).read_all()
    assert rows.column_names == ["person_id", "period", "grade_level", "gpa"]
    assert answer.header.rows == rows.num_rows == 5
    # Maria's three rows in 2019-2021, in period order, each under the hub's person id;
    # her 2018-19 row is outside the requested years.
    assert rows.to_pylist() == [
        {"person_id": "hub-p-maria", "period": "2019-20", "grade_level": 9, "gpa": 3.1},
        {"person_id": "hub-p-maria", "period": "2020-21", "grade_level": 10, "gpa": 3.2},
        {"person_id": "hub-p-maria", "period": "2021-22", "grade_level": 11, "gpa": 3.3},
        {"person_id": "hub-p-william", "period": "2020-21", "grade_level": 10, "gpa": 2.9},
        {"person_id": "hub-p-zoe", "period": "2020-21", "grade_level": 8, "gpa": 3.9},
    ]
    for needle in (MARIA_ID, WILLIAM_ID, "R-000", "Garcia", "GARCIA", "Whitfield", *pids):
        assert needle.encode() not in plaintext


def test_extract_person_pid_never_issued_refused(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    table, _ = _match(api, hub, wire)
    issued = table.column("pid").to_pylist()
    # DeShawn's person pid is well formed but was never sent (no row in the years).
    for stranger in (_pids(node)[DESHAWN_ID], "f" * 32):
        response = _extract(api, hub, wire, [(issued[0], "hub-p-0001"), (stranger, "hub-p-0002")])
        assert (response.status_code, response.json()["error"]) == (403, "unknown_pid")


def test_extract_refused_when_the_hub_person_id_is_an_agency_person_id(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    _match(api, hub, wire)
    pids = _pids(node)
    # A hub person id that is one of the payload's agency person ids never leaves the node.
    response = _extract(api, hub, wire, [(pids[MARIA_ID], "hub-p-maria"),
                                         (pids[WILLIAM_ID], MARIA_ID)])
    assert (response.status_code, response.json()["error"]) == (403, "egress_identifier")
    assert MARIA_ID not in response.text


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, node: Path) -> Any:
    with store_url_on(request.param, node / "backend.sqlite3", prefix="node_persons") as url:
        yield url


def test_person_pages_and_extract_on_every_store_backend(
    store_url: str, node: Path, hub: Any, wire: SimpleNamespace, monkeypatch: Any
) -> None:
    # The keyset on person ids (text order and comparison) and the person range query,
    # on each backend: one row per person, a person's rows in the extract.
    monkeypatch.setenv("FEDLINK_NODE_DATABASE_URL", store_url)
    with NodeRuntime.open(node) as runtime:
        run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
        wire.approve_locally(runtime, wire.make_terms())
        wire.pin_genesis(runtime)
    with TestClient(create_app(NodeSettings.load(node))) as api:
        services = api.app.state.services
        envelope = wire.signed(wire.match_body(), MATCH, hub.signing)
        plan = authorise_match(services, ReceivedBody(data=envelope, too_large=False,
                                                      limit=1 << 20))
        data = b"".join(stream_tokens(services, plan, batch_size=1))
        pids = pa.ipc.open_stream(io.BytesIO(data)).read_all().column("pid").to_pylist()
        expected = _pids(node)
        assert pids == sorted([expected[MARIA_ID], expected[WILLIAM_ID], expected["R-0006"]])
        response = _extract(api, hub, wire, [(expected[MARIA_ID], "hub-p-maria")])
        _, plaintext = _payload(response, hub, wire)
    rows = pa.ipc.open_stream(io.BytesIO(plaintext)).read_all()
    assert rows.column("period").to_pylist() == ["2019-20", "2020-21", "2021-22"]


def test_extract_record_pid_gives_its_row_and_a_stale_pid_gives_none(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    table, _ = _match(api, hub, wire)
    maria, william = _pids(node)[MARIA_ID], _pids(node)[WILLIAM_ID]
    assert {maria, william} <= set(table.column("pid").to_pylist())
    key = (node / "pseudonym.key").read_bytes()
    legacy = pseudonymous_id(key, wire.PROJECT, "R-0003")  # issued per row, before persons
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        records = {r.record_id: r for r in session.scalars(select(Record))}
        session.add(IssuedPid(project_id=wire.PROJECT, pid=legacy,
                              record_pk=records["R-0003"].id))
        # William's remembered row now carries another person id (re-ingested): his
        # person pid no longer names what the store holds.
        records["R-0005"].person_id = "1000000099"
        session.commit()
    assignments = [(legacy, "hub-p-legacy"), (maria, "hub-p-maria"), (william, "hub-p-will")]
    answer, plaintext = _payload(_extract(api, hub, wire, assignments), hub, wire)
    rows = pa.ipc.open_stream(io.BytesIO(plaintext)).read_all()
    assert [(r["person_id"], r["period"]) for r in rows.to_pylist()] == [
        ("hub-p-legacy", "2020-21"), ("hub-p-maria", "2019-20"), ("hub-p-maria", "2020-21"),
        ("hub-p-maria", "2021-22")]
    assert answer.header.rows == 4
