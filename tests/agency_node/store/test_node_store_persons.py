"""Persons and periods in the node store on every backend (SQLite always, PostgreSQL when
FEDLINK_TEST_DATABASE_URL names one): person ids and normalised periods stored per row,
re-ingest an upsert, a reused id quarantined and counted on the run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, select, text

from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.store.ingest_runs import latest_run
from agency_node.store.migrate import MIGRATIONS_DIR
from agency_node.store.models import Record
from tests.agency_node.ingest.test_persons import longitudinal_rows, write_rows
from tests.agency_node.store_backends import STORE_BACKENDS, store_url_on


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_url_on(request.param, tmp_path / "persons.sqlite3", prefix="node_persons") as url:
        yield url


def test_node_store_keeps_persons_and_periods_on_backend(
    store_url: str, tmp_path: Path, make_node: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_rows(tmp_path / "k12.csv", longitudinal_rows(30, years=2))
    node_dir = make_node(source)
    rows = longitudinal_rows(30, years=2)
    rows.append(["R9000000", "S000004", "Deshawn", "PRICE", "1961-12-25", "2020-21", "400"])
    rows[30][5] = "2020-2021"  # another spelling of the same school year
    write_rows(source, rows)
    monkeypatch.setenv("FEDLINK_NODE_DATABASE_URL", store_url)
    with NodeRuntime.open(node_dir) as runtime:
        for _ in range(2):  # re-ingest: the same store
            summary = run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
        with runtime.sessions() as session:
            stored = {r.record_id: (r.person_id, r.period, r.period_kind, r.year)
                      for r in session.scalars(select(Record))}
            run = latest_run(session)
            assert run is not None and run.reused_person_ids == 1
    assert summary.records_in_store == 58 and summary.quarantined == 3
    assert stored["R0000030"] == ("S000000", "2020-21", "school_year", 2020)
    assert stored["R0000001"] == ("S000001", "2019-20", "school_year", 2019)
    assert not any(person == "S000004" for person, *_ in stored.values())


def _alembic(conn: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def test_migration_0008_keeps_earlier_records_as_persons_of_their_own(store_url: str) -> None:
    engine = create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic(conn), "0007")
            conn.execute(text("INSERT INTO ingest_runs (id, started_at, source, strict, status, "
                              "rows, loaded, quarantined, blank_lines, encoding_fallbacks) "
                              "VALUES (1, 't', 's', false, 'completed', 1, 1, 0, 0, '{}')"))
            conn.execute(text("INSERT INTO records (id, record_id, identity, raw_identity, "
                              "attributes, year, source_row, encoding, ingest_run_id) VALUES "
                              "(1, 'K-1', '{}', '{}', '{}', 2020, 1, 'utf-8', 1)"))
        with engine.begin() as conn:
            command.upgrade(_alembic(conn), "0008")
            row = conn.execute(text("SELECT record_id, person_id, period, period_kind "
                                    "FROM records")).one()
            assert tuple(row) == ("K-1", None, None, None)
            assert conn.execute(text("SELECT reused_person_ids FROM ingest_runs")).scalar() \
                is None
        with engine.begin() as conn:
            command.downgrade(_alembic(conn), "0007")
        columns = {c["name"] for c in inspect(engine).get_columns("records")}
        assert "person_id" not in columns and "period" not in columns
    finally:
        engine.dispose()
