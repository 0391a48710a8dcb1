"""Alembic environment of the hub; driven by :mod:`hub.db.migrate` with a live connection."""

from __future__ import annotations

from alembic import context

import hub.db.models  # noqa: F401  (registers every table on the metadata)
from hub.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run hub migrations through hub.db.migrate, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
