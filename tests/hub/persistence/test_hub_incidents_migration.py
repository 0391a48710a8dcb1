"""Migration 0017 (incidents): its three tables come and go with upgrade and downgrade, and
at 0017 they are exactly the models (hub/db/models/incidents.py)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hub.db.base import Base
from hub.db.engine import make_engine
from tests.hub.persistence.test_hub_policy_migration import _migrate

TABLES = {"incidents", "incident_node_events", "incident_notifications"}


def test_migration_0017_adds_and_removes_exactly_the_incident_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    _migrate(engine, "0016")
    assert not TABLES & set(inspect(engine).get_table_names())
    _migrate(engine, "0017")
    assert set(inspect(engine).get_table_names()) >= TABLES
    # Only the incident tables, compared with their models (later migrations add others).
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={
            "include_object": lambda obj, name, kind, _reflected, _other:
                name in TABLES if kind == "table" else obj.table.name in TABLES}),
            Base.metadata)
    assert diff == []
    _migrate(engine, "0016", down=True)
    tables = set(inspect(engine).get_table_names())
    assert not TABLES & tables and "requests" in tables
    engine.dispose()
