"""``fedlink-client findings …`` as a researcher runs it: the installed script, a real
``fedlink hub serve`` process on loopback, real sockets. The project is approved in process
on the served database (the stewards' and governance's part, tested elsewhere); the
researcher uploads a report, reads it back, downloads it (SHA-256 checked), releases it
and registers the paper."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.settings import CONFIG_FILE
from tests.hub.api.test_hub_findings import PDF, approved_project
from tests.served import free_port, wait_until_serving

FEDLINK = Path(sys.executable).with_name("fedlink")
SCRIPT = Path(sys.executable).with_name("fedlink-client")
Hub = Any  # tests/hub/conftest.py


@pytest.fixture
def served(hub: Hub, tmp_path: Path) -> Iterator[str]:
    """``fedlink hub serve`` on the ``hub`` fixture's database; its base URL."""
    settings = hub.ctx.settings
    config = settings.dir / CONFIG_FILE
    assert not config.exists()
    config.write_text(f'database_url = "{settings.database_url}"\nrun_worker = false\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_")}
    env["FEDLINK_HUB_LOG_LEVEL"] = "warning"
    port = free_port()
    log = tmp_path / "hub.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(FEDLINK), "hub", "serve", "--dir", str(settings.dir),
                                   "--port", str(port)], env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, log, what="hub")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)
        config.unlink()


@pytest.mark.e2e
@pytest.mark.slow
def test_researcher_reports_through_the_script_to_a_served_hub(hub: Hub, served: str,
                                                               tmp_path: Path) -> None:
    token, project = approved_project(hub, findings_review_days=0)
    token_file = tmp_path / "researcher.token"
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_")}
    env.update(FEDLINK_HUB_URL=served, FEDLINK_TOKEN_FILE=str(token_file))

    def client(*args: str) -> tuple[int, str, str]:
        done = subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True,
                              timeout=60, check=False, cwd=tmp_path)
        return done.returncode, done.stdout, done.stderr

    paper = tmp_path / "final-paper.pdf"
    paper.write_bytes(PDF)
    code, out, err = client("findings", "upload", project, str(paper), "--title", "Final",
                            "--kind", "final", "--deliverable", "Final paper")
    assert code == 0, err
    found = re.search(r"report (rpt-[0-9a-f]+) shared", out)
    assert found, out
    report = found.group(1)
    code, out, err = client("findings", "list", "--project", project)
    assert code == 0 and out.startswith(f"{report}  {project}") and "releasable" in out, err
    code, out, err = client("findings", "download", report, "--out", "got")
    sha = hashlib.sha256(PDF).hexdigest()
    assert code == 0 and f"sha256 {sha} verified" in out, err
    assert (tmp_path / "got" / "final-paper.pdf").read_bytes() == PDF
    code, out, err = client("findings", "release", report)
    assert code == 0, err
    code, out, err = client("deliverables", project)
    assert code == 0 and "released  final   Final paper" in out, err
    code, out, err = client("publication", "add", project, "--citation", "A. (2027). Final.",
                            "--published", "2027-06-01", "--report", report)
    assert code == 0, err
    code, out, err = client("publication", "list")
    assert code == 0 and out == f"2027-06-01  {project:<18} A. (2027). Final.\n", err
    code, out, err = client("findings", "release", report)
    assert code == 5 and "already_released (409)" in err and out == ""
