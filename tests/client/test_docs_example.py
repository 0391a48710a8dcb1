"""The end-to-end example of docs/client.md, exactly as the page shows it, run against a real
``fedlink hub serve`` process with a real linked extract.

The hub process serves the database of the extract tests' federation (tests/hub/extracts/
conftest.py: two real agency nodes in process, a governance roster, stewards). The
example's first half runs as written (sign in, catalog, key, request, submit, status); then
the federation does what people do in the weeks the comment stands for — each agency's
steward and every governance member approve *that* request, the nodes issue pids and a
linkage run succeeds (``Federation.ready_project``) — and the second half runs: status,
extract (built by the assembly role while the example waits), download, verify, decrypt,
open."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hub.settings import CONFIG_FILE
from tests.served import free_port, wait_until_serving

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"
FEDLINK = Path(sys.executable).with_name("fedlink")
LATER = "# ... weeks later"
Federation = Any  # tests/hub/extracts/conftest.py


def example() -> str:
    """The first Python block of the page's end-to-end section, verbatim."""
    section = DOC.read_text(encoding="utf-8").split("## From sign-in to an opened extract")[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def halves() -> tuple[str, str]:
    code = example()
    before, marker, after = code.partition(LATER)
    assert marker, f"docs/client.md's example lost its {LATER!r} line"
    return before, marker + after


def test_the_example_is_under_ten_lines_of_code() -> None:
    lines = [line for line in example().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) < 10, lines
    assert all(step in example() for step in ("Client()", "catalog()", "generate_key(",
                                              "create_request(", "submit_request(",
                                              ".status", "build_extract(",
                                              "download_extract("))


def _assemble_until_built(fed: Federation, done: threading.Event, errors: list[BaseException]
                          ) -> None:
    """The assembly role (as `fedlink hub assembler run`), until it built one extract."""
    try:
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            if fed.hub.assemble(fed.transport()):
                return
            time.sleep(0.2)
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


@pytest.mark.e2e
@pytest.mark.slow
def test_the_documented_example_runs_against_a_real_hub(federation: Federation, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fed = federation
    fed.hub.clock.offset = dt.timedelta()
    settings = fed.hub.ctx.settings
    config = settings.dir / CONFIG_FILE
    assert not config.exists()
    # The process serves this federation's database; linkage runs are the test's to make.
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
    done, errors = threading.Event(), []
    namespace: dict[str, Any] = {"__name__": "docs_client_example"}
    try:
        wait_until_serving(base, server, log, what="hub")
        work = tmp_path / "researcher"
        work.mkdir()
        (work / "agreement.json").write_text(json.dumps(fed.agreement()))
        monkeypatch.chdir(work)
        for name in ("FEDLINK_TOKEN_FILE", "FEDLINK_CA_FILE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("FEDLINK_HUB_URL", base)
        monkeypatch.setenv("FEDLINK_TOKEN", fed.researcher[1])
        before, after = halves()
        exec(compile(before, str(DOC), "exec"), namespace)
        request = namespace["request"]
        assert request.status == "submitted"
        assert (work / "researcher.key").stat().st_mode & 0o777 == 0o600

        # The weeks in between: stewards and governance approve this request, it is linked.
        monkeypatch.setattr(fed.hub, "submitted_request", lambda *_a, **_k: request.id)
        project, _run, _pids = fed.ready_project()
        assert project == request.id

        assembler = threading.Thread(target=_assemble_until_built, args=(fed, done, errors))
        assembler.start()
        exec(compile(after, str(DOC), "exec"), namespace)
        done.set()
        assembler.join(30)
        assert errors == []
    finally:
        done.set()
        if "hub" in namespace:  # the example leaves its client to the interpreter's exit
            namespace["hub"].close()
        config.unlink()
        server.terminate()
        server.wait(timeout=15)

    extract = namespace["extract"]
    assert extract.status == "available" and extract.encryption == "researcher"
    folder = work / "extracts" / extract.id
    assert (folder / "tables" / "agency_SCH.parquet").is_file()
    assert (folder / "data_dictionary.csv").is_file()
    bundle = work / "extracts" / f"{extract.id}.zip"
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == extract.sha256
    assert not list((work / "extracts").glob("*.part"))
