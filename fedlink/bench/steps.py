"""Running one benchmark step as a child process and recording what it gave.

A step is a command (``python -m fedlink.bench.worker NAME`` in Fedlink's environment,
or the anonlink worker under the peers' interpreter) plus a JSON spec. The child writes
its result to a file; its stdout carries ``{"stage": …}`` lines shown as progress; its
stderr goes to a log whose tail explains a failure. Every outcome is a plain dict
(:func:`record`) so the report can show "not installed", "failed" or "timed out" in the
row instead of a number.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

OK, FAILED, TIMEOUT, MISSING, SKIPPED = "ok", "failed", "timed out", "not installed", "skipped"


def record(status: str, detail: str = "", seconds: float = 0.0,
           result: dict[str, Any] | None = None) -> dict[str, Any]:
    """The outcome of one step: status, one-line detail, wall time, the step's result."""
    return {"status": status, "detail": detail, "wall_seconds": seconds, "result": result or {}}


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])[-400:]


def _pump(stream, on_stage: Callable[[str], None]) -> None:
    for line in stream:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict) and "stage" in message:
            on_stage(str(message["stage"]))


def run_step(
    key: str,
    command: list[str],
    spec: dict[str, Any],
    workdir: Path,
    *,
    timeout: float,
    on_stage: Callable[[str], None] = lambda _m: None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``command SPEC OUT`` and return its :func:`record`."""
    workdir.mkdir(parents=True, exist_ok=True)
    slug = key.replace("/", "-")
    spec_path, out_path, log_path = (workdir / f"{slug}.{ext}" for ext in ("spec.json",
                                                                          "out.json", "log"))
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    started = time.perf_counter()
    with log_path.open("w") as log:
        try:
            child = subprocess.Popen(  # noqa: S603 - our own worker scripts
                [*command, str(spec_path), str(out_path)],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,  # so a timeout can stop the step and its children
                env={**os.environ, **(env or {})},
            )
        except OSError as exc:
            return record(MISSING, f"cannot start {command[0]}: {exc.strerror or exc}")
        reader = threading.Thread(target=_pump, args=(child.stdout, on_stage), daemon=True)
        reader.start()
        try:
            code = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # the step's own process group
            child.wait()
            code = None
        finally:
            reader.join(timeout=5)
            if child.stdout is not None:
                child.stdout.close()
    if code is None:
        return record(TIMEOUT, f"stopped after {timeout:g} s", time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if code != 0 or not out_path.exists():
        return record(FAILED, f"exit {code}: {_tail(log_path)} (log: {log_path})", seconds)
    return record(OK, "", seconds, json.loads(out_path.read_text()))
