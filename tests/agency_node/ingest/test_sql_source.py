"""A node whose source is a table behind a SQLAlchemy URL instead of a CSV file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agency_node.config import SourceSection, read_config
from agency_node.errors import SourceError
from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.setup import init_node


@pytest.fixture
def source_db(tmp_path: Path) -> str:
    path = tmp_path / "sis.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE students (record_id TEXT, first_name TEXT, last_name TEXT, "
                   "birth_date DATE, enroll_year INTEGER, credits REAL)")
        db.executemany("INSERT INTO students VALUES (?, ?, ?, ?, ?, ?)", [
            ("S1", "Ann", "Lee", "2001-02-03", 2019, 30.5),
            ("S2", "Bo", "Kim", "2000-12-31", 2020, None),
            ("S3", None, None, None, 2020, 12.0),
        ])
    return f"sqlite:///{path}"


def test_sql_source_init_and_ingest(tmp_path: Path, source_db: str) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, agency="HIGHERED", name="Colleges",
              source=SourceSection(kind="sql", url=source_db, table="students"))
    config = read_config(node_dir)
    assert config.mapping.identity == {"first_name": "first_name", "last_name": "last_name",
                                       "dob": "birth_date"}
    assert config.mapping.year_column == "enroll_year"
    assert config.variables["credits"].type == "number"
    with NodeRuntime.open(node_dir) as runtime:
        summary = run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
    assert (summary.loaded, summary.quarantined, dict(summary.reasons)) == (
        2, 1, {"no_identity": 1})


def test_sql_source_missing_table_is_a_clear_error(tmp_path: Path, source_db: str) -> None:
    with pytest.raises(SourceError, match="'nope' does not exist"):
        init_node(tmp_path / "node", agency="HIGHERED", name="Colleges",
                  source=SourceSection(kind="sql", url=source_db, table="nope"))
