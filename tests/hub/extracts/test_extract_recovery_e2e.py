"""kill -9 of a real ``fedlink hub assembler run`` process in the middle of a build: the
extract does not stay ``building``; once the dead process's lease runs out another attempt
builds it. The nodes the killed process asks never answer (a listening socket nobody
accepts on), so it is certainly mid-build when it dies."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from hub.db.models import Job
from hub.persistence import extracts as extract_store
from hub.services.audit_verify import verify_offline
from hub.services.extract_build import JOB_KIND
from hub.settings import CONFIG_FILE

Federation = Any  # tests/hub/extracts/conftest.py
LEASE_SECONDS = 3


@pytest.fixture
def silent_nodes(federation: Federation) -> Iterator[None]:
    """The nodes' ports accept connections (kernel backlog) and never answer."""
    sockets = []
    try:
        for node in federation.nodes.values():
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", int(node.url.rsplit(":", 1)[1])))
            sock.listen(16)
            sockets.append(sock)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        pytest.skip(f"a node port is taken ({exc})")
    yield
    for sock in sockets:
        sock.close()


@pytest.fixture
def hub_config(federation: Federation) -> Iterator[None]:
    """The in-process hub has no hub.toml; the assembler process needs its database."""
    settings = federation.hub.ctx.settings
    config = settings.dir / CONFIG_FILE
    if config.exists():
        yield
        return
    config.write_text(f'database_url = "{settings.database_url}"\n')
    yield
    config.unlink()


def _job(fed: Federation, extract_id: str) -> Job | None:
    with fed.hub.ctx.session_factory() as session:
        jobs = session.scalars(select(Job).where(Job.kind == JOB_KIND)).all()
        return next((j for j in jobs if j.payload.get("extract_id") == extract_id), None)


def test_assembler_killed_mid_build_is_reclaimed_and_the_extract_built(
        federation: Federation, silent_nodes: None, hub_config: None) -> None:
    fed = federation
    fed.hub.clock.offset = dt.timedelta()
    project, _, _ = fed.ready_project()
    response = fed.hub.client.post("/v1/extracts", json={"project_id": project},
                                   headers=fed.hub.auth(fed.researcher[1]))
    assert response.status_code == 202, response.text
    extract_id = response.json()["id"]

    settings = fed.hub.ctx.settings
    env = {**os.environ, "FEDLINK_ASSEMBLY_LEASE_SECONDS": str(LEASE_SECONDS),
           "FEDLINK_HUB_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fedlink.cli", "hub", "assembler", "run",
         "--dir", str(settings.dir), "--assembly-dir", str(fed.hub.assembly_dir)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while (job := _job(fed, extract_id)) is None or job.status != "running":
            assert process.poll() is None, process.communicate()[0].decode()
            assert time.monotonic() < deadline, "the assembler never claimed the build"
            time.sleep(0.1)
        assert job.worker_id is not None and job.worker_id.startswith("assembler:")
        time.sleep(LEASE_SECONDS)  # it heartbeats while waiting on the nodes
        job = _job(fed, extract_id)
        assert job is not None and (job.status, job.attempts) == ("running", 1)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    with fed.hub.ctx.session_factory() as session:
        extract = extract_store.get_extract(session, extract_id=extract_id)
        assert extract is not None and extract.status == "building"
    time.sleep(LEASE_SECONDS + 0.5)  # nobody renews the dead process's lease

    assert fed.hub.assemble(fed.transport()) == 1  # reclaimed, then built again

    job = _job(fed, extract_id)
    assert job is not None and (job.status, job.attempts) == ("succeeded", 2)
    with fed.hub.ctx.session_factory() as session:
        extract = extract_store.get_extract(session, extract_id=extract_id)
        assert extract is not None and extract.status == "available"
    path = settings.dir / "extracts" / f"{extract_id}.flx"
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert verify_offline(settings.dir).startswith("hub audit chain intact")
