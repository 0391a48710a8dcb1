"""A real `fedlink hub serve` on a genuinely full file system (a small tmpfs filled to the
last byte): every write is answered 503 ``store_unavailable`` with a JSON reason and
``Retry-After`` — never a 500 — ``/ready`` says the disk is full, reads still answer and the
process stays up; once space is freed, writes succeed again without a restart and the audit
chain verifies (nothing lost, nothing forked)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hub.test_hub_e2e import FEDLINK
from tests.served import free_port, wait_until_serving
from tests.small_disk import read_only_view, small_disk

#: Big enough that the empty hub is ready (hub/db/probe.py wants 16 MB free), small enough
#: to fill in a moment.
DISK_MB = 24


@contextlib.contextmanager
def _serving(hub_dir: Path, env: dict[str, str], log: Path,
             token: str) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """`fedlink hub serve` on a free port, and a client with the admin token; the process
    is stopped at the end."""
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(FEDLINK), "hub", "serve", "--dir", str(hub_dir), "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, log, what="hub")
        with httpx.Client(base_url=base, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as api:
            yield api, server
    finally:
        server.terminate()
        server.wait(timeout=20)


def _init(hub_dir: Path, env: dict[str, str]) -> str:
    """`fedlink hub init`; returns the admin token it prints once."""
    init = subprocess.run([str(FEDLINK), "hub", "init", "--dir", str(hub_dir)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert init.returncode == 0, init.stderr
    token = re.search(r"token \(shown once, keep it safe\): (\S+)", init.stdout)
    assert token is not None, init.stdout
    return token.group(1)


def _verify(hub_dir: Path, env: dict[str, str]) -> None:
    verified = subprocess.run([str(FEDLINK), "audit", "verify", "--dir", str(hub_dir)],
                              env=env, capture_output=True, text=True, timeout=120,
                              check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "store_unavailable"
    assert response.json()["detail"]
    assert int(response.headers["Retry-After"]) > 0


def _agency(client: httpx.Client, code: str) -> httpx.Response:
    return client.post("/v1/agencies", json={"code": code, "name": f"{code} agency",
                                             "url": f"http://{code.lower()}:8101"})


@pytest.mark.e2e
def test_hub_process_on_a_full_disk_answers_503_and_recovers_when_freed(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_HUB_")}
    with small_disk(tmp_path / "disk", DISK_MB) as disk:
        hub_dir = disk.path / "hub"
        token = _init(hub_dir, env)
        log = tmp_path / "serve.log"  # off the small disk: the log must not be what fails
        with _serving(hub_dir, env, log, token) as (api, server):
            assert api.get("/ready").status_code == 200, api.get("/ready").text
            assert _agency(api, "BEFORE").status_code == 201

            disk.fill()
            assert disk.free_bytes() < 64 << 10
            accepted, refused = {"BEFORE"}, []
            for n in range(20):
                code = f"FULL{n}"
                response = _agency(api, code)
                assert response.status_code in (201, 503), response.text
                if response.status_code == 201:
                    # A commit may still fit in space SQLite already holds; not for long.
                    assert not refused, "a write succeeded after one was refused"
                    accepted.add(code)
                    continue
                _refused(response)
                refused.append(code)
                if len(refused) == 5:
                    break
            assert len(refused) == 5, "the full disk never refused a write"

            ready = api.get("/ready")
            assert ready.status_code == 503
            assert "bytes free" in ready.json()["checks"]["database"]
            assert api.get("/v1/agencies").status_code == 200  # reads still answer
            assert server.poll() is None

            disk.free()
            assert api.get("/ready").status_code == 200
            assert _agency(api, "AFTER").status_code == 201
            accepted.add("AFTER")
            listed = {a["code"] for a in api.get("/v1/agencies").json()}
            assert accepted <= listed and not listed & set(refused)
            assert server.poll() is None, log.read_text()
        _verify(hub_dir, env)
    assert "Traceback" not in log.read_text()
    assert "SQLITE_FULL" in log.read_text(), log.read_text()


@pytest.fixture
def pg_role() -> Iterator[tuple[str, str]]:
    """A role of this test's own owning a schema of its own, so that making *it* read-only
    (``ALTER ROLE … SET default_transaction_read_only``) touches nothing else on the server;
    yields (role, hub database URL)."""
    url = os.environ.get("FEDLINK_TEST_DATABASE_URL")
    if not url:
        pytest.skip("needs PostgreSQL (FEDLINK_TEST_DATABASE_URL)")
    from sqlalchemy import make_url

    from hub.db.engine import make_engine

    role = f"fedlink_ro_{secrets.token_hex(4)}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        conn.exec_driver_sql(f'CREATE SCHEMA "{role}" AUTHORIZATION "{role}"')
    hub_url = make_url(url).set(username=role).update_query_dict(
        {"options": f"-csearch_path={role}"})
    try:
        yield role, hub_url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            _disconnect(conn, role)
            conn.exec_driver_sql(f'DROP SCHEMA "{role}" CASCADE')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def _disconnect(conn: Any, role: str) -> None:
    """End the role's sessions: a role setting applies to sessions that start after it."""
    conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE usename = %(role)s", {"role": role})


@pytest.mark.e2e
@pytest.mark.postgres
def test_hub_process_on_read_only_postgresql_answers_503_and_recovers(
        tmp_path: Path, pg_role: tuple[str, str]) -> None:
    from hub.db.engine import make_engine

    role, url = pg_role
    # No background sweep: the start-up sweep (expiry, destruction, scheduled refreshes) can
    # still be running when the role turns read-only, and a session it opens then is one more
    # read-only session in the pool, met by a write at an unpredictable point. This test
    # counts the sessions the requests themselves open.
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_HUB_")},
           "FEDLINK_HUB_DATABASE_URL": url, "FEDLINK_HUB_EXTRACT_SWEEP_SECONDS": "0"}
    hub_dir = tmp_path / "hub"
    token = _init(hub_dir, env)
    log = tmp_path / "serve.log"
    admin = make_engine(os.environ["FEDLINK_TEST_DATABASE_URL"])
    try:
        with _serving(hub_dir, env, log, token) as (api, server):
            assert _agency(api, "BEFORE").status_code == 201
            with admin.begin() as conn:
                conn.exec_driver_sql(
                    f'ALTER ROLE "{role}" SET default_transaction_read_only = on')
                _disconnect(conn, role)
            # The pooled sessions were ended (SQLSTATE 57P01 or a closed connection): the
            # first write may fail on one of them, the rest on a read-only session (25006).
            for n in range(3):
                _refused(_agency(api, f"RO{n}"))
            ready = api.get("/ready")
            assert ready.status_code == 503
            assert "read-only transaction" in ready.json()["checks"]["database"]
            assert api.get("/v1/agencies").status_code == 200  # reads still answer
            assert server.poll() is None

            with admin.begin() as conn:  # fixed; the hub's sessions are left as they are
                conn.exec_driver_sql(f'ALTER ROLE "{role}" RESET default_transaction_read_only')
            statuses = [_agency(api, f"AFTER{n}").status_code for n in range(3)]
            # A session begun read-only stays so: the hub drops its sessions on 25006 and
            # the next write opens a fresh one. At most one write meets an old session.
            assert statuses[-1] == 201 and statuses.count(503) <= 1, statuses
            assert api.get("/ready").status_code == 200
            listed = {a["code"] for a in api.get("/v1/agencies").json()}
            assert "BEFORE" in listed and not any(code.startswith("RO") for code in listed)
            assert server.poll() is None, log.read_text()
    finally:
        admin.dispose()
    _verify(hub_dir, env)
    text = log.read_text()
    assert "Traceback" not in text and "SQLSTATE 25006" in text, text


@pytest.mark.e2e
def test_hub_process_on_a_read_only_file_system_answers_503_and_recovers(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_HUB_")}
    token = _init(tmp_path / "rw" / "hub", env)
    # SQLite opens a WAL database on a read-only file system only while its -wal and -shm
    # files exist — as they do under a hub whose file system turned read-only as it ran.
    # Another connection on the writable side keeps them (a file system cannot be
    # remounted read-only while files are open for writing, so it cannot happen live here).
    holder = sqlite3.connect(tmp_path / "rw" / "hub" / "hub.db")
    holder.execute("SELECT count(*) FROM alembic_version").fetchall()
    log = tmp_path / "serve.log"
    try:
        with read_only_view(tmp_path / "rw", tmp_path / "ro") as view, \
                _serving(view.view / "hub", env, log, token) as (api, server):
            ready = api.get("/ready")
            assert ready.status_code == 503
            assert "readonly" in ready.json()["checks"]["database"]
            for n in range(3):
                _refused(_agency(api, f"RO{n}"))
            assert api.get("/v1/agencies").status_code == 200  # reads still answer
            assert server.poll() is None

            view.make_writable()  # the operator fixed the file system; no restart
            statuses = [_agency(api, f"AFTER{n}").status_code for n in range(3)]
            # Connections opened read-only stay so: the hub drops them on SQLITE_READONLY
            # and the next write opens afresh. At most one write meets an old connection.
            assert statuses[-1] == 201 and statuses.count(503) <= 1, statuses
            assert api.get("/ready").status_code == 200
            listed = {a["code"] for a in api.get("/v1/agencies").json()}
            assert "AFTER2" in listed and not any(code.startswith("RO") for code in listed)
            assert server.poll() is None, log.read_text()
    finally:
        holder.close()
    _verify(tmp_path / "rw" / "hub", env)
    text = log.read_text()
    assert "Traceback" not in text and "SQLITE_READONLY" in text, text
