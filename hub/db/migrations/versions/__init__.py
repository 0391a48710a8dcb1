"""Alembic revisions of the hub schema."""
