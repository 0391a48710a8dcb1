"""The node store's Alembic migrations: on SQLite always and on PostgreSQL when
FEDLINK_TEST_DATABASE_URL names one (one schema for this run, dropped after). The migrated
schema must be exactly the models; old stores are adopted; unknown revisions and unreachable
servers are one clear sentence."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from agency_node.errors import ConfigError
from agency_node.store.db import open_engine
from agency_node.store.migrate import BASELINE, MIGRATIONS_DIR, head_revision, upgrade_to_head
from agency_node.store.models import Base

PG_URL = os.environ.get("FEDLINK_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + ([pytest.param("postgresql", marks=pytest.mark.postgres)]
                         if PG_URL else [])


@pytest.fixture(scope="module")
def pg_schema_url() -> Iterator[str | None]:
    """A fresh PostgreSQL schema for this module's run, dropped at the end."""
    if not PG_URL:
        yield None
        return
    schema = f"node_mig_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path,
              pg_schema_url: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'node.sqlite3'}"
        return
    assert pg_schema_url is not None
    yield pg_schema_url
    engine = create_engine(pg_schema_url)
    with engine.begin() as conn:  # leave the schema empty for the next test
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_node_migrations_create_exactly_the_models(store_url: str) -> None:
    engine = open_engine(store_url)
    try:
        assert _revision(engine) == head_revision()
        assert _diff(engine) == []
        upgrade_to_head(engine)  # idempotent: a second open changes nothing
        assert _revision(engine) == head_revision()
    finally:
        engine.dispose()


def _baseline_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def test_node_store_made_by_create_all_is_adopted_with_its_rows(store_url: str) -> None:
    legacy = create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
    # A pre-migration store has the baseline (0001) tables only, not today's models: build
    # exactly that schema, then forget the revision as create_all-era stores never had one.
    with legacy.begin() as conn:
        config = _baseline_config()
        config.attributes["connection"] = conn
        command.upgrade(config, BASELINE)
        conn.execute(text("DROP TABLE alembic_version"))
    with legacy.begin() as conn:
        conn.execute(text("INSERT INTO seen_nonces (kid, nonce, expires_at) "
                          "VALUES ('k', 'n', 1.0)"))
    legacy.dispose()
    engine = open_engine(store_url)
    try:
        assert _revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM seen_nonces")).scalar_one() == 1
    finally:
        engine.dispose()


def test_node_store_at_unknown_revision_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.sqlite3'}"
    open_engine(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(ConfigError, match=r"revision 9999_future.*upgrade fedlink"):
        open_engine(url)


def test_node_store_unreachable_server_is_one_sentence_without_password() -> None:
    url = "postgresql://agency:hunter2secret@127.0.0.1:1/nodestore"
    with pytest.raises(ConfigError) as caught:
        open_engine(url)
    message = str(caught.value)
    assert "hunter2secret" not in message and "\n" not in message
    assert "127.0.0.1:1/nodestore" in message and "FEDLINK_NODE_DATABASE_URL" in message


def test_node_store_without_migrate_creates_nothing(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'bare.sqlite3'}", migrate=False)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
