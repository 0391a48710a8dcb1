"""anonlink + clkhash (privacy-preserving) in the benchmark: the harness's side.

The peer runs in its own virtual environment (see :mod:`fedlink.bench.anonlink_worker`
for why); this module finds that interpreter, writes the clear-text records the worker
encodes (the same normalised values every peer sees), and scores the links it returns
with :func:`fedlink.bench.metrics.link_scores`.

**Threshold.** anonlink links pairs whose CLK Dice similarity is at least
:data:`THRESHOLD` and that its greedy solver keeps (one-to-one). The value was tuned once
on FEBRL4 — the best F1 of :data:`SWEEP`, 0.70 to 0.95 in steps of 0.025 (every run
repeats the sweep on FEBRL4 and ``docs/benchmarks.md`` shows it; it is scored outside the
timed link) — and is used unchanged on every data set, as a deployment would: no truth is
there to tune on.
The sweep starts at 0.70 because below it the threshold stops selecting: these CLKs are
about 60 % full, so unrelated records already reach Dice ≈ 0.6, and on FEBRL4 0.60 admits
80 % of all 25 million pairs (0.70: 0.3 %), leaving the whole decision to the greedy
solver — which FEBRL4, where every record has exactly one partner, rewards, and data
where most records have none (the synthetic agencies) punishes.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fedlink.bench.datasets import AccuracyData, pair_fields
from fedlink.bench.metrics import link_scores

THRESHOLD = 0.7
SWEEP: tuple[float, ...] = tuple(round(0.7 + 0.025 * i, 3) for i in range(11))
FIELDS = ("first_name", "last_name", "dob", "ssn", "postal_code", "street_address", "city")
WORKER = Path(__file__).with_name("anonlink_worker.py")
PEERS_VENV = ".venv-bench-peers"
PYTHON_ENV = "FEDLINK_BENCH_PEERS_PYTHON"


def default_python() -> Path:
    """``$FEDLINK_BENCH_PEERS_PYTHON``, else ``.venv-bench-peers`` in the working directory,
    else the one beside the source tree (an editable install)."""
    if os.environ.get(PYTHON_ENV):
        return Path(os.environ[PYTHON_ENV])
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = root / PEERS_VENV / "bin" / "python"
        if candidate.exists():
            return candidate
    return Path.cwd() / PEERS_VENV / "bin" / "python"


def versions(python: Path) -> dict[str, str] | None:
    """Installed versions of clkhash and anonlink, or ``None`` when the peer is missing."""
    if not python.exists():
        return None
    try:
        done = subprocess.run(  # noqa: S603 - our own worker, run by the chosen interpreter
            [str(python), str(WORKER), "versions"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return None


def command(python: Path, mode: str) -> list[str]:
    return [str(python), str(WORKER), mode]


def rows(frame: pd.DataFrame, fields: Sequence[str]) -> list[list[str]]:
    """Clear-text rows for clkhash: strings in field order, missing = "", dates as digits."""
    values = frame[list(fields)].astype("object").where(frame[list(fields)].notna(), "")
    if "dob" in fields:
        values["dob"] = values["dob"].str.replace("-", "", regex=False)
    return values.astype(str).values.tolist()


def _write(path: Path, data: list[list[str]]) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def accuracy_spec(data: AccuracyData, workdir: Path, threshold: float = THRESHOLD,
                  sweep: Sequence[float] = ()) -> dict[str, Any]:
    """The worker's spec for every pair of ``data`` (inputs written under ``workdir``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    pairs = []
    for a, b in data.pairs:
        left, right = data.clean(a), data.clean(b)
        fields = pair_fields(left, right, FIELDS)
        pairs.append(
            {
                "names": [a, b],
                "fields": fields,
                "left": _write(workdir / f"{data.name}-{a}-{b}-left.json", rows(left, fields)),
                "right": _write(workdir / f"{data.name}-{a}-{b}-right.json", rows(right, fields)),
            }
        )
    return {"pairs": pairs, "threshold": threshold, "sweep": list(sweep)}


def score_accuracy(data: AccuracyData, result: dict[str, Any]) -> dict[str, Any]:
    """Scores of the worker's links per pair (and of each swept threshold, if any)."""
    pairs, sweep, seconds = [], {}, {"encode": 0.0, "link": 0.0}
    for (a, b), out in zip(data.pairs, result["pairs"], strict=True):
        left, right = data.clean(a), data.clean(b)

        def score(links: list[list[int]], a: str = a, b: str = b, left=left, right=right):
            frame = pd.DataFrame(links, columns=["l", "r"], dtype="int64")
            return link_scores((a, b), left["truth_id"], right["truth_id"], frame.l, frame.r)

        pairs.append(score(out["links"]).as_dict())
        for threshold, links in out.get("sweep", {}).items():
            sweep.setdefault(threshold, []).append(score(links).as_dict())
        for key in seconds:
            seconds[key] += out["seconds"][key]
    return {
        "pairs": pairs,
        "sweep": sweep,
        "seconds": seconds,
        "peak_rss_bytes": result.get("peak_rss_bytes"),
        "threshold": THRESHOLD,
    }


def throughput_spec(clean: pd.DataFrame, workdir: Path) -> dict[str, Any]:
    """Encode the throughput records with clkhash in one process, then with its default
    (one process per core)."""
    workdir.mkdir(parents=True, exist_ok=True)
    fields = pair_fields(clean, clean, FIELDS)
    path = _write(workdir / "throughput-clk.json", rows(clean, fields))
    return {"records": path, "fields": fields, "workers": [1, os.cpu_count() or 1]}


def scale_spec(left: pd.DataFrame, right: pd.DataFrame, workdir: Path) -> dict[str, Any]:
    """The worker's spec for the scale pair (inputs written under ``workdir``, made here:
    ``--only speed`` runs without the accuracy step that otherwise made it first)."""
    workdir.mkdir(parents=True, exist_ok=True)
    fields = pair_fields(left, right, FIELDS)
    return {
        "left": _write(workdir / "scale-left.json", rows(left, fields)),
        "right": _write(workdir / "scale-right.json", rows(right, fields)),
        "fields": fields,
        "threshold": THRESHOLD,
    }


def score_scale(left: pd.DataFrame, right: pd.DataFrame, result: dict[str, Any]) -> dict:
    links = pd.DataFrame(result["links"], columns=["l", "r"], dtype="int64")
    score = link_scores(("k12", "workforce"), left["truth_id"], right["truth_id"],
                        links.l, links.r)
    return {
        "records": {"k12": len(left), "workforce": len(right)},
        "seconds": result["seconds"],
        "peak_rss_bytes": result.get("peak_rss_bytes"),
        "pairs": [score.as_dict()],
    }
