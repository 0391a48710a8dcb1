"""The match stream's unit order (agency_node/services/unit_order.py): units in pid order,
a permutation of its own per project, so two projects' streams cannot be lined up by
position, and nothing of the store's order (person ids, insertion order) shows."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agency_node.api.app import create_app
from agency_node.ingest.loader import run_ingest
from agency_node.keys import load_pseudonym_key
from agency_node.runtime import NodeRuntime
from agency_node.services import unit_order
from agency_node.services.gate import ReceivedBody
from agency_node.services.match import authorise_match, stream_tokens
from agency_node.services.unit_order import pid_order
from agency_node.settings import NodeSettings
from agency_node.store.models import AuditEvent, IssuedPid, Record
from protocol.canonical import b64url_encode
from protocol.keys import person_pseudonymous_ids, pseudonymous_ids
from tests.agency_node.conftest import fixed_key_person_node, pin_genesis, signed
from tests.agency_node.store_backends import STORE_BACKENDS, store_url_on

HEADER = ["record_id", "state_student_id", "first_name", "middle_name", "last_name", "dob",
          "sex", "street_address", "postal_code", "school_year", "grade_level", "gpa"]
FIRST = ["Maria", "William", "Zoe", "DeShawn", "Aiko", "Bjorn", "Carmen", "Dmitri", "Esther",
         "Farid", "Greta", "Hector", "Ines", "Jamal", "Keiko", "Lars", "Marisol", "Nnamdi"]
LAST = ["Garcia", "OBrien", "Nguyen", "Washington", "Tanaka", "Lindqvist", "Rivera",
        "Volkov", "Cohen", "Haddad", "Schmidt", "Morales", "Duarte", "Okafor", "Sato"]
YEARS = ["2019-20", "2020-21", "2021-22"]
PERSONS, LONE_ROWS = 180, 90
OTHER = "P-2026-002"
OTHER_SALT = b64url_encode(b"t" * 32)
MATCH = "match_request"


def _identity(n: int) -> dict[str, str]:
    born = dt.date(2003, 1, 1) + dt.timedelta(days=37 * n)
    return {"first_name": FIRST[n % len(FIRST)], "middle_name": "",
            "last_name": LAST[(n * 7) % len(LAST)], "dob": born.isoformat(),
            "sex": "F" if n % 2 else "M", "street_address": f"{n + 1} Oak St",
            "postal_code": f"{22000 + n}"}


def _rows() -> list[dict[str, str]]:
    """Persons with one to three school years (their rows spread over the file, year by
    year) and records without a person id in between; grades 6 to 12."""
    rows: list[dict[str, str]] = []
    for y, year in enumerate(YEARS):
        for p in range(PERSONS):
            if p % 3 >= y:  # person p has rows in the first (p % 3) + 1 years
                rows.append({"state_student_id": f"S{(p * 7919) % 100_000:05d}",
                             **_identity(p), "school_year": year,
                             "grade_level": str(6 + (p + y) % 7), "gpa": "3.0"})
        for lone in range(y * LONE_ROWS // 3, (y + 1) * LONE_ROWS // 3):
            rows.append({"state_student_id": "", **_identity(PERSONS + lone),
                         "school_year": year, "grade_level": str(6 + lone % 7),
                         "gpa": "2.5"})
    return [{"record_id": f"R-{n:05d}", **row} for n, row in enumerate(rows, 1)]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, hub: Any) -> Path:
    return fixed_key_person_node(tmp_path_factory.mktemp("unit-order"), hub, _rows(), HEADER)


@pytest.fixture
def node(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "node"))


@pytest.fixture
def api(node: Path) -> Any:
    with TestClient(create_app(NodeSettings.load(node)), raise_server_exceptions=False) as c:
        yield c


def _stream(api: TestClient, hub: Any, body: dict[str, Any], batch_size: int) -> pa.Table:
    services = api.app.state.services
    plan = authorise_match(services, ReceivedBody(data=signed(body, MATCH, hub.signing),
                                                  too_large=False, limit=1 << 20))
    data = b"".join(stream_tokens(services, plan, batch_size=batch_size))
    return pa.ipc.open_stream(io.BytesIO(data)).read_all()


def _units(node: Path, project_id: str, pids: list[str]) -> list[str]:
    """The unit behind each pid, in stream order: its person id, or its record id when
    the record has none (the node's issued_pids, as an extract resolves them)."""
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        behind = {pid: person or record for pid, person, record in session.execute(
            select(IssuedPid.pid, Record.person_id, Record.record_id)
            .join(Record, Record.id == IssuedPid.record_pk)
            .where(IssuedPid.project_id == project_id))}
    return [behind[pid] for pid in pids]


def _spearman(first: list[str], second: list[str]) -> float:
    """Spearman's rank correlation of the positions of the same items in two orders."""
    rank = {unit: n for n, unit in enumerate(second)}
    a = np.arange(len(first), dtype=np.float64)
    b = np.array([rank[unit] for unit in first], dtype=np.float64)
    return float(np.corrcoef(a, b)[0, 1])


def _store_order(node: Path) -> list[str]:
    """The order the stream used to have: persons by person id, then records by key."""
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        records = session.execute(select(Record.person_id, Record.record_id)
                                  .order_by(Record.id)).all()
    persons = sorted({person for person, _ in records if person})
    return persons + [record for person, record in records if not person]


def test_match_streams_of_two_projects_order_units_unrelatedly(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    with NodeRuntime.open(node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(project_id=OTHER))
    first = _stream(api, hub, wire.match_body(), 1000).column("pid").to_pylist()
    second = _stream(api, hub, wire.match_body(project_id=OTHER, project_salt=OTHER_SALT),
                     1000).column("pid").to_pylist()
    # Each stream in pid order.
    assert first == sorted(first) and second == sorted(second)
    units_first = _units(node, wire.PROJECT, first)
    units_second = _units(node, OTHER, second)
    # The same units (every person with a row in 2019-2021, every lone record), once each.
    assert len(units_first) == len(set(units_first)) == PERSONS + LONE_ROWS
    assert set(units_first) == set(units_second) == set(_store_order(node))
    # In orders unrelated to each other and to the store's (person ids, insertion order).
    assert units_first != units_second
    assert abs(_spearman(units_first, units_second)) < 0.3
    store = _store_order(node)
    assert abs(_spearman(units_first, store)) < 0.3
    assert abs(_spearman(units_second, store)) < 0.3


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, node: Path) -> Any:
    with store_url_on(request.param, node / "backend.sqlite3", prefix="node_order") as url:
        yield url


def test_unit_order_on_every_store_backend(
    store_url: str, node: Path, hub: Any, wire: SimpleNamespace, monkeypatch: Any
) -> None:
    # The ordering pass (count, person keyset with GROUP BY, record keyset) and the pages
    # read by key (IN a subquery, IN a list), on each backend: the same units as the
    # SQLite store gives, in pid order, and tiny pages give the same rows.
    monkeypatch.setenv("FEDLINK_NODE_DATABASE_URL", store_url)
    with NodeRuntime.open(node) as runtime:
        run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
        wire.approve_locally(runtime, wire.make_terms())
        wire.approve_locally(runtime, wire.make_terms(project_id=OTHER))
        pin_genesis(runtime)
    with TestClient(create_app(NodeSettings.load(node))) as api:
        whole = _stream(api, hub, wire.match_body(), 1000)
        assert _stream(api, hub, wire.match_body(), 7).equals(whole)
        other = _stream(api, hub, wire.match_body(project_id=OTHER, project_salt=OTHER_SALT),
                        1000).column("pid").to_pylist()
    first = whole.column("pid").to_pylist()
    assert first == sorted(first) and other == sorted(other)
    units_first, units_other = _units(node, wire.PROJECT, first), _units(node, OTHER, other)
    assert len(units_first) == len(set(units_first)) == PERSONS + LONE_ROWS
    assert set(units_first) == set(units_other)
    assert abs(_spearman(units_first, units_other)) < 0.3


def test_match_stream_tiny_pages_keep_persons_whole_and_each_units_row(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    whole = _stream(api, hub, wire.match_body(), 1000)
    # Three units a page: every page mixes persons and lone records in pid order.
    paged = _stream(api, hub, wire.match_body(), 3)
    # One unit a page: each unit encoded alone.
    alone = _stream(api, hub, wire.match_body(), 1)
    assert paged.equals(whole) and alone.equals(whole)
    assert {len(batch) for batch in paged.to_batches()} <= {1, 2, 3}
    pids = whole.column("pid").to_pylist()
    # A person split across pages would be sent twice under its pid.
    assert len(pids) == len(set(pids)) == PERSONS + LONE_ROWS
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "answered")
                                 .order_by(AuditEvent.seq)).all()
        stored_rows = session.scalar(select(func.count()).select_from(Record))
    counts = {(e.details["records"], e.details["persons"], e.details["rows"]) for e in events}
    # The audit counts do not depend on the page size: units, persons and every row.
    assert counts == {(PERSONS + LONE_ROWS, PERSONS, stored_rows)}


def test_match_stream_cohort_leaves_units_out_and_keeps_pid_order(
    api: TestClient, node: Path, hub: Any, wire: SimpleNamespace
) -> None:
    cohort = {"conditions": [{"kind": "range", "variable": "grade_level", "minimum": 11}]}
    with NodeRuntime.open(node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(cohort=cohort))
    chosen = _stream(api, hub, wire.match_body(scope={"cohort": cohort}), 4)
    pids = chosen.column("pid").to_pylist()
    assert pids == sorted(pids)
    # Exactly the persons with a row in grade 11 or 12, and such lone records.
    expected = {row["state_student_id"] or row["record_id"] for row in _rows()
                if int(row["grade_level"]) >= 11}
    units = _units(node, wire.PROJECT, pids)
    assert len(units) == len(set(units)) and set(units) == expected
    assert 0 < len(expected) < PERSONS + LONE_ROWS


def test_pid_order_sorts_on_the_whole_pid_when_first_halves_tie(node: Path) -> None:
    # Pids made up to share their first 8 bytes: the second half must decide.
    made = {"R-00001": "aa" * 8 + "03" * 8, "R-00002": "aa" * 8 + "01" * 8,
            "R-00003": "00" * 16, "R-00004": "ff" * 16, "R-00005": "aa" * 8 + "02" * 8}
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        pks = dict(session.execute(select(Record.record_id, Record.id)
                                   .where(Record.record_id.in_(made))).all())
        order = pid_order(session, persons=False, years=None,
                          record_pids=lambda ids: [made.get(r, "11" * 16) for r in ids],
                          person_pids=lambda ids: pytest.fail("no person is read"))
    keys = order.keys.tolist()
    positions = [keys.index(pks[r]) for r in sorted(made, key=made.__getitem__)]
    assert positions == sorted(positions)
    assert not order.persons.any()


def test_pid_order_keeps_units_added_after_the_count(
    node: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows ingested between the count and the pass: the arrays grow, no unit is lost.
    with NodeRuntime.open(node) as runtime, runtime.sessions() as session:
        expected = pid_order(session, persons=True, years=None,
                             record_pids=lambda ids: _pids(node, ids, person=False),
                             person_pids=lambda ids: _pids(node, ids, person=True))
        monkeypatch.setattr(unit_order, "count_units", lambda *_a, **_k: 1)
        grown = pid_order(session, persons=True, years=None,
                          record_pids=lambda ids: _pids(node, ids, person=False),
                          person_pids=lambda ids: _pids(node, ids, person=True))
    assert len(grown) == len(expected) == PERSONS + LONE_ROWS
    assert grown.keys.tolist() == expected.keys.tolist()
    assert grown.persons.tolist() == expected.persons.tolist()


def _pids(node: Path, ids: list[str], *, person: bool) -> list[str]:
    key = load_pseudonym_key(node)
    derive = person_pseudonymous_ids if person else pseudonymous_ids
    return derive(key, "P-2026-001", ids)
