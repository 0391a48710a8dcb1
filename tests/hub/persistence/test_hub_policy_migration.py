"""Migration 0015 (governance policy): the agenda and review checklist tables come and go
with upgrade and downgrade; reviews recorded before keep their rows."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from hub.db.engine import make_engine
from hub.db.migrate import _config


def _migrate(engine: object, target: str, *, down: bool = False) -> None:
    config = _config()
    with engine.begin() as connection:  # type: ignore[attr-defined]
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, target)


def test_migration_0015_adds_and_removes_the_policy_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    _migrate(engine, "0014")
    assert "agenda_items" not in inspect(engine).get_table_names()
    _migrate(engine, "0015")
    inspector = inspect(engine)
    assert {"agenda_items", "review_criteria"} <= set(inspector.get_table_names())
    assert [c["name"] for c in inspector.get_columns("review_criteria")] == [
        "id", "review_id", "criterion", "text", "met", "note"]
    assert inspector.get_foreign_keys("review_criteria")[0]["referred_table"] == "reviews"
    _migrate(engine, "0014", down=True)
    tables = set(inspect(engine).get_table_names())
    assert not {"agenda_items", "review_criteria"} & tables and "reviews" in tables
    engine.dispose()
