"""Alembic, run programmatically: ``fedlink hub init`` upgrades to head, ``serve`` checks.

The migration environment lives in ``hub/db/migrations`` (``env.py`` + ``versions/``); no
``alembic.ini`` is needed because the configuration is built here and the caller's
connection is handed to ``env.py`` through ``config.attributes``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hub.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database schema to the newest revision."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise ConfigError("the hub has no migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision; :class:`ConfigError` naming the database if unreachable."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        original = getattr(exc, "orig", None) or exc
        reason = (str(original).strip().splitlines() or [type(original).__name__])[0][:300]
        raise ConfigError(
            f"the hub database at {engine.url.render_as_string(hide_password=True)} cannot be "
            f"reached ({reason}); check database_url in hub.toml or FEDLINK_HUB_DATABASE_URL "
            "and that the database server is running"
        ) from None


def require_database_file(engine: Engine) -> None:
    """A SQLite hub database must exist already: connecting would create an empty one."""
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not Path(database).exists():
        raise ConfigError(f"the hub database {database} does not exist; run `fedlink hub init` "
                          "or point database_url at the hub's database")


def require_current_schema(engine: Engine) -> None:
    """Refuse to serve a database that is not at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise ConfigError(
            f"the hub database is at schema revision {current or 'none'}, not {head}; "
            "run `fedlink hub migrate` (or `fedlink hub init` for a new hub)"
        )
