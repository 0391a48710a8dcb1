"""A hub database that cannot take a write makes ``/ready`` answer 503 naming it, and a
write answer 503 ``store_unavailable`` with ``Retry-After`` — never a 500: SQLite opened
read-only, PostgreSQL in a read-only session (SQLSTATE 25006). Faults are told from bugs by
SQLSTATE / SQLite result code (``hub.db.faults``). Real processes on a full or read-only
file system: ``tests/hub/test_hub_disk_faults_e2e.py``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError

from hub.api.app import create_app
from hub.db.engine import make_engine
from hub.db.faults import store_fault


@pytest.fixture
def read_only_hub(hub: Any) -> Iterator[SimpleNamespace]:
    """The same hub served from its database opened read-only (``mode=ro``: what SQLite
    falls back to on a read-only file system; chmod does not bind root)."""
    path = hub.ctx.engine.url.database
    if hub.ctx.engine.dialect.name != "sqlite":
        pytest.skip("opens the SQLite file read-only")
    engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    app = create_app(hub.ctx.settings, keys=hub.ctx.keys, engine=engine)
    with TestClient(app) as client:
        yield SimpleNamespace(client=client, admin_token=hub.admin_token)
    engine.dispose()


def test_hub_not_ready_on_a_read_only_database(read_only_hub: Any) -> None:
    response = read_only_hub.client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_ready" and body["checks"]["keys"] == "ok"
    assert body["checks"]["database"].startswith("the database cannot take a write")


def test_hub_write_on_a_read_only_database_is_503_store_unavailable(read_only_hub: Any) -> None:
    response = read_only_hub.client.post(
        "/v1/agencies", headers={"Authorization": f"Bearer {read_only_hub.admin_token}"},
        json={"code": "WF", "name": "WF agency", "url": "http://wf:8101"})
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "store_unavailable"
    assert response.headers["retry-after"] == "30"


@pytest.fixture
def read_only_pg_hub(hub: Any) -> Iterator[SimpleNamespace]:
    """The same hub on a PostgreSQL session that is read-only (what a standby, a read-only
    role or ``ALTER DATABASE … SET default_transaction_read_only`` gives): every write
    raises SQLSTATE 25006, an ``InternalError`` to SQLAlchemy, not an ``OperationalError``."""
    if hub.ctx.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL session (the postgresql backend only)")
    with hub.ctx.engine.connect() as connection:
        schema = connection.exec_driver_sql("SHOW search_path").scalar_one()
    engine = make_engine(hub.ctx.engine.url.render_as_string(hide_password=False),
                         connect_args={"options": f"-csearch_path={schema} "
                                                 "-cdefault_transaction_read_only=on"})
    app = create_app(hub.ctx.settings, keys=hub.ctx.keys, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield SimpleNamespace(client=client, admin_token=hub.admin_token)
    engine.dispose()


def test_hub_write_on_a_read_only_postgresql_is_503_store_unavailable(
        read_only_pg_hub: Any) -> None:
    ready = read_only_pg_hub.client.get("/ready")
    assert ready.status_code == 503
    assert "read-only transaction" in ready.json()["checks"]["database"]
    response = read_only_pg_hub.client.post(
        "/v1/agencies", headers={"Authorization": f"Bearer {read_only_pg_hub.admin_token}"},
        json={"code": "WF", "name": "WF agency", "url": "http://wf:8101"})
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "store_unavailable"
    assert response.headers["retry-after"] == "30"
    # Reads still answer: only what must write is refused.
    me = read_only_pg_hub.client.get(
        "/v1/public/projects", headers={"Authorization": f"Bearer {read_only_pg_hub.admin_token}"})
    assert me.status_code == 200, me.text


def test_hub_bug_in_the_database_layer_is_still_a_500_not_a_store_fault(hub: Any) -> None:
    # A constraint violation is the hub's bug, not the store's fault: it must not hide as a
    # 503 (that would make clients retry forever).
    from sqlalchemy.exc import IntegrityError

    @hub.app.get("/test-only/integrity")
    def _raise() -> None:
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    with TestClient(hub.app, raise_server_exceptions=False) as client:
        response = client.get("/test-only/integrity")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"


@pytest.mark.parametrize(("driver_error", "expected"), [
    (psycopg.errors.ReadOnlySqlTransaction, "unavailable"),  # 25006, an InternalError
    (psycopg.errors.DiskFull, "unavailable"),                # 53100
    (psycopg.errors.OutOfMemory, "unavailable"),             # 53200
    (psycopg.errors.ConnectionFailure, "unavailable"),       # 08006
    (psycopg.errors.AdminShutdown, "unavailable"),           # 57P01
    (psycopg.errors.IoError, "unavailable"),                 # 58030
    (psycopg.errors.DeadlockDetected, "busy"),               # 40P01
    (psycopg.errors.SerializationFailure, "busy"),           # 40001
    (psycopg.errors.LockNotAvailable, "busy"),               # 55P03
    (psycopg.errors.QueryCanceled, "busy"),                  # 57014 statement_timeout
    (psycopg.errors.TooManyConnections, "busy"),             # 53300
    (psycopg.errors.UniqueViolation, None),                  # 23505: a bug, not the store
    (psycopg.errors.UndefinedTable, None),                   # 42P01
])
def test_store_fault_classifies_postgresql_by_sqlstate(driver_error: type[Exception],
                                                       expected: str | None) -> None:
    # The message is deliberately uninformative: only the SQLSTATE may decide.
    wrapped = DBAPIError.instance("UPDATE …", {}, driver_error("x"), psycopg.Error)
    assert store_fault(wrapped) == expected


def test_store_fault_classifies_real_sqlite_errors_by_result_code(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x INTEGER UNIQUE)").connection.close()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    locked = sqlite3.connect(path, timeout=0)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    faults = {}
    for name, connection, sql in [("readonly", read_only, "INSERT INTO t VALUES (1)"),
                                  ("locked", locked, "INSERT INTO t VALUES (1)")]:
        with pytest.raises(sqlite3.Error) as caught:
            connection.execute(sql)
        faults[name] = store_fault(DBAPIError.instance(sql, (), caught.value, sqlite3.Error))
    holder.execute("ROLLBACK")
    holder.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as duplicate:
        holder.execute("INSERT INTO t VALUES (1)")
    faults["duplicate"] = store_fault(
        DBAPIError.instance("INSERT", (), duplicate.value, sqlite3.Error))
    for connection in (read_only, locked, holder):
        connection.close()
    assert faults == {"readonly": "unavailable", "locked": "busy", "duplicate": None}
