"""The node store backends tests run on: SQLite always, the local PostgreSQL when
``FEDLINK_TEST_DATABASE_URL`` names it (a fresh schema per test, dropped afterwards)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("FEDLINK_TEST_DATABASE_URL")
STORE_BACKENDS = ["sqlite"] + ([pytest.param("postgresql", marks=pytest.mark.postgres)]
                               if PG_URL else [])


@contextlib.contextmanager
def store_url_on(backend: str, sqlite_file: Path, *, prefix: str) -> Iterator[str]:
    """A node store URL on ``backend``: ``sqlite_file``, or a new PostgreSQL schema named
    ``prefix`` plus random hex (its search path in the URL)."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    assert PG_URL is not None
    schema = f"{prefix}_{secrets.token_hex(4)}"
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
