"""Alembic for the node store, run programmatically: every command that opens the store
(``ingest``, ``serve``, ``profile``, ``approve`` …) brings it to the newest revision first.

* The migrations live in ``agency_node/store/migrations`` (``env.py`` + ``versions/``); the
  caller's connection is handed to ``env.py`` through ``config.attributes``.
* On PostgreSQL the upgrade holds a transaction-scoped advisory lock, so a node service and
  an ingest started at the same moment do not both try to create the tables. SQLite
  serialises writers by itself.
* A store made before migrations existed (tables created by ``metadata.create_all``, no
  ``alembic_version``) is adopted: stamped at the baseline revision ``0001``, which is
  exactly the schema ``create_all`` produced, then upgraded.
* A store at a revision this code does not know (written by a newer fedlink) is refused with
  one sentence instead of being guessed at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, inspect, text

from agency_node.errors import ConfigError

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
BASELINE: Final = "0001"
#: pg_advisory_xact_lock key: "fedlink node store" folded into a signed 64-bit integer.
_LOCK_KEY: Final = int.from_bytes(b"fednode1", "big") - (1 << 63)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise ConfigError("the node store has no migrations")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Bring the store's schema to the newest revision (adopting a pre-migration store)."""
    config = _config()
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config.attributes["connection"] = connection
        current = current_revision(connection)
        if current is not None and current not in known:
            raise ConfigError(
                f"the node store is at schema revision {current}, which this fedlink does not "
                f"know (newest here: {head_revision()}); upgrade fedlink before using this store"
            )
        if current is None and inspect(connection).has_table("records"):
            command.stamp(config, BASELINE)
        try:
            command.upgrade(config, "head")
        except CommandError as exc:  # pragma: no cover - a broken install
            raise ConfigError(f"the node store cannot be migrated: {exc}") from None
