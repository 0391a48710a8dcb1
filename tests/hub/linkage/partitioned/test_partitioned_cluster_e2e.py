"""The partitioned engine on a Dask cluster it did not start: a ``dask scheduler`` and two
``dask worker`` processes, as ``deploy/`` runs them, reached by address alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.linkage import LinkageConfig
from hub.linkage.config import LinkageClusterError
from hub.linkage.partitioned import ScaleOptions, link_files
from tests.served import free_port

pytestmark = pytest.mark.e2e



@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "error"}
    processes = [subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    for i in range(2):
        processes.append(subprocess.Popen(
            [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
             "--memory-limit", "2GiB", "--local-directory", str(tmp_path / f"worker-{i}")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    try:
        from dask.distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_run_on_a_running_dask_cluster_by_address_equals_the_serial_run(
        dask_cluster, three_agencies, landed, tmp_path):
    paths = landed(three_agencies)
    work = tmp_path / "shared-work"
    work.mkdir()
    serial = link_files(paths, LinkageConfig(), ScaleOptions(
        engine="partitioned", scheduler="serial", partitions=4, slice_rows=80))
    started = time.perf_counter()
    clustered = link_files(paths, LinkageConfig(), ScaleOptions(
        engine="partitioned", scheduler=dask_cluster, partitions=4, slice_rows=80,
        workdir=str(work)))
    assert time.perf_counter() - started < 120
    assert clustered.report["partitions"]["scheduler"] == dask_cluster
    assert clustered.report["partitions"]["workers"] == 2
    processes = clustered.report["partitions"]["worker_peak_rss_bytes"]
    assert len(processes) == 2 and not any(p.endswith(f":{os.getpid()}") for p in processes)
    assert clustered.links.sort_by("pid_a").equals(serial.links.sort_by("pid_a"))
    assert clustered.report["summary"] == serial.report["summary"]
    assert list(work.iterdir()) == []  # the run's files are removed from the shared volume


def test_unreachable_scheduler_fails_the_run_with_a_clear_error(three_agencies, landed,
                                                                 monkeypatch):
    from hub.linkage.partitioned import executor

    monkeypatch.setattr(executor, "CONNECT_SECONDS", 2)
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(LinkageClusterError, match=f"scheduler at {address} did not answer"):
        link_files(landed(three_agencies), LinkageConfig(), ScaleOptions(
            engine="partitioned", scheduler=address))
