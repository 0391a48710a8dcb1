"""`fedlink node ingest` as a real process: an all-bad file exits non-zero with one line;
one killed mid-way (SIGKILL) leaves a run the next ingest marks interrupted and audits,
and nothing of the killed run was kept."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from agency_node.ingest.runs import LOCK_FILE

FEDLINK = Path(sys.executable).with_name("fedlink")
HEADER = (b"record_id,first_name,middle_name,last_name,dob,sex,ssn,postal_code,"
          b"school_year,grade_level,gpa,ell,truth_id\r\n")


def _row(n: int) -> bytes:
    return f"K12-{n:06d},Maria,,Garcia,03/07/2004,F,,23220,2019,9,3.4,yes,P{n}\r\n".encode()


def _lock_held(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_killed_ingest_is_marked_interrupted_and_audited(
    tmp_path: Path, make_node: Callable[..., Path]
) -> None:
    source = tmp_path / "big.csv"
    source.write_bytes(HEADER + _row(1) + _row(2))
    node_dir = make_node(source)
    source.write_bytes(HEADER + b"".join(_row(n) for n in range(1, 150_001)))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    ingest = [str(FEDLINK), "node", "ingest", "--dir", str(node_dir)]
    victim = subprocess.Popen(ingest, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _lock_held(node_dir / LOCK_FILE):
        assert victim.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.5)  # well into the load (150,000 rows take far longer)
    assert victim.poll() is None, "the ingest finished before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)

    source.write_bytes(HEADER + _row(1) + _row(2) + _row(3))
    done = subprocess.run(ingest, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ingest #1 had been interrupted: marked and audited" in done.stdout
    assert "3 rows, 3 loaded, 0 quarantined; 3 records in the store" in done.stdout
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        runs = db.execute("SELECT id, status, audited FROM ingest_runs ORDER BY id").fetchall()
        events = db.execute("SELECT typ, outcome, reason FROM audit_events ORDER BY seq"
                            ).fetchall()
    assert runs == [(1, "interrupted", 1), (2, "completed", 1)]
    assert events[-2:] == [("ingest", "interrupted", "interrupted"), ("ingest", "completed", "")]


def test_all_bad_file_exits_non_zero_as_a_process(
    tmp_path: Path, make_node: Callable[..., Path]
) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(HEADER + _row(1) + _row(2))
    node_dir = make_node(source)
    source.write_bytes(HEADER + b"".join(_row(n).replace(b",9,", b",ninth,")
                                         for n in range(1, 997)))
    done = subprocess.run([str(FEDLINK), "node", "ingest", "--dir", str(node_dir)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "996 rows, 0 loaded, 996 quarantined" in done.stdout
    assert "source lines (utf-8): 997 = 1 header + 996 quarantined" in done.stdout
    [error] = done.stderr.strip().splitlines()
    assert error.startswith("fedlink: error: nothing was loaded: all 996 rows are unusable")
    assert "Traceback" not in done.stderr
