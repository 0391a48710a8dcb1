"""Alembic environment of the node store; driven by :mod:`agency_node.store.migrate`, which
hands over a live connection (no ``alembic.ini``)."""

from __future__ import annotations

from alembic import context

from agency_node.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run node migrations through agency_node.store.migrate")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
