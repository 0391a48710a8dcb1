"""Migration 0014 (amendments): a project approved before versions existed gets its
agreement as version 1, in force, authorised by its current round; drafts get none; and
the downgrade removes what the upgrade added."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from hub.db.engine import make_engine
from hub.db.migrate import _config


def _migrate(engine: object, target: str, *, down: bool = False) -> None:
    config = _config()
    with engine.begin() as connection:  # type: ignore[attr-defined]
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, target)


def test_migration_0014_makes_approved_agreements_version_one(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    _migrate(engine, "0013")
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).isoformat()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, name, role, active, created_at) "
                          "VALUES (1, 'Ada', 'researcher', 1, :now)"), {"now": now})
        for rid, status, round_ in (("prj-a", "ready", 2), ("prj-d", "draft", 0)):
            conn.execute(text(
                "INSERT INTO requests (id, researcher_id, status, title, dsa, round, "
                "needs_edit, created_at, updated_at, decided_at) VALUES (:id, 1, :status, "
                "'T', :dsa, :round, 0, :now, :now, :decided)"),
                {"id": rid, "status": status, "round": round_, "now": now,
                 "dsa": json.dumps({"title": "T", "term_end": "2027-12-31"}),
                 "decided": now if status == "ready" else None})
    _migrate(engine, "0014")
    with engine.connect() as conn:
        requests = dict(conn.execute(text(
            "SELECT id, version || '/' || COALESCE(approved_round, -1) FROM requests")).all())
        versions = conn.execute(text(
            "SELECT request_id, version, kind, status, round, dsa FROM agreement_versions"
        )).all()
    assert requests == {"prj-a": "1/2", "prj-d": "0/-1"}
    assert [(v[0], v[1], v[2], v[3], v[4]) for v in versions] == [
        ("prj-a", 1, "original", "in_force", 2)]
    assert json.loads(versions[0][5])["term_end"] == "2027-12-31"
    _migrate(engine, "0013", down=True)
    inspector = inspect(engine)
    assert "agreement_versions" not in inspector.get_table_names()
    assert "version" not in {c["name"] for c in inspector.get_columns("requests")}
    engine.dispose()
