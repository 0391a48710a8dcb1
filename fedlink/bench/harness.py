"""The benchmark run: which steps, in which order, with progress; results as one dict.

Every heavy step runs in a child process (:mod:`fedlink.bench.steps`), one after the
other, so each time and peak RSS is that step's own and all are measured in the same run
on the same machine. A peer that is not installed, fails or times out gets a row saying
so; the run goes on.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from fedlink.bench import anonlink_runner, datasets, recordlinkage_runner, splink_runner
from fedlink.bench.machine import load_average, machine_info, package_version
from fedlink.bench.steps import MISSING, OK, SKIPPED, record, run_step
from fedlink.extras import DISTRIBUTION
from protocol.normalize import NormalizationOptions

SYSTEMS: tuple[str, ...] = ("fedlink", "splink", "recordlinkage", "anonlink")
DATASETS: tuple[str, ...] = ("synth", "febrl4")
#: Deduplication data sets (one file each), run with the accuracy part: Fedlink and Splink.
DEDUP_DATASETS: tuple[str, ...] = ("febrl3", "febrl2", "synth-k12", "synth-highered",
                                   "synth-workforce")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fedlink" / "bench"


@dataclass
class BenchOptions:
    """What ``fedlink bench`` runs (see :mod:`fedlink.commands.bench` for the options)."""

    people: int = 20_000
    seed: int = 0
    scale: int = 1_000_000
    skip_scale: bool = False
    only: str | None = None
    datasets: tuple[str, ...] = DATASETS
    dedup_datasets: tuple[str, ...] = DEDUP_DATASETS
    systems: tuple[str, ...] = SYSTEMS
    throughput_records: int = 100_000
    privacy_sizes: tuple[int, ...] = (2_000, 20_000)
    #: The hub under load (fedlink.bench.load): concurrent clients per step, seconds each.
    load_clients: tuple[int, ...] = (1, 50, 200)
    load_seconds: float = 60.0
    anonlink_scale: int = 50_000
    #: The partitioned engine's scale ladder (records a side; 10,000,000 is an option:
    #: ``--ladder 1000000,3000000,10000000``), and the worker counts measured at
    #: ``workers_size`` (docs/scaling.md).
    ladder: tuple[int, ...] = (1_000_000, 3_000_000)
    ladder_workers: tuple[int, ...] = (1, 2, 4)
    workers_size: int = 3_000_000
    #: One agency node answering one match request (fedlink.bench.node_stream): records.
    node_records: int = 1_000_000
    peers_python: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    timeout: float = 3600.0
    command: str = "fedlink bench"

    def wants(self, part: str) -> bool:
        return self.only in (None, part)


class _Display:
    """An overall bar and the current step's stage, on stderr."""

    def __init__(self, console: Console, total: int) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.progress.add_task("bench", total=total)

    def step(self, label: str) -> Callable[[str], None]:
        self.progress.update(self.task, description=label)
        return lambda stage: self.progress.update(self.task, description=f"{label}: {stage}")

    def done(self) -> None:
        self.progress.advance(self.task)


class Bench:
    def __init__(self, options: BenchOptions, console: Console, workdir: Path) -> None:
        self.options = options
        self.console = console
        self.workdir = workdir
        self.python = options.peers_python or anonlink_runner.default_python()
        self.display = _Display(console, self._count_steps())

    def _count_steps(self) -> int:
        o = self.options
        n = len(o.datasets) * len(o.systems) if o.wants("accuracy") else 0
        if o.wants("accuracy"):
            n += len(o.dedup_datasets) * 2  # Fedlink and Splink
        if o.wants("speed"):
            n += 2 + (0 if o.skip_scale else 6 + 2 * len(o.ladder) + len(o.ladder_workers))
        if o.wants("privacy"):
            n += len(o.privacy_sizes)
        if o.wants("load"):
            n += 1
        return max(n, 1)

    # -- running -------------------------------------------------------------------------

    def _main(self, key: str, label: str, worker: str, spec: dict[str, Any]) -> dict[str, Any]:
        on_stage = self.display.step(label)
        command = [sys.executable, "-m", "fedlink.bench.worker", worker]
        out = run_step(key, command, spec, self.workdir / "steps", timeout=self.options.timeout,
                       on_stage=on_stage)
        self.display.done()
        return out

    def _peer(self, key: str, label: str, mode: str, spec: dict[str, Any],
              finish: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        on_stage = self.display.step(label)
        command = anonlink_runner.command(self.python, mode)
        out = run_step(key, command, spec, self.workdir / "steps", timeout=self.options.timeout,
                       on_stage=on_stage)
        if out["status"] == OK:
            out["result"] = finish(out["result"]) | {"versions": out["result"].get("versions")}
        self.display.done()
        return out

    def _skip(self, status: str, detail: str) -> dict[str, Any]:
        self.display.done()
        return record(status, detail)

    # -- parts ---------------------------------------------------------------------------

    def versions(self) -> dict[str, str | None]:
        peers = anonlink_runner.versions(self.python) if "anonlink" in self.options.systems \
            else None
        return {
            "fedlink": package_version(DISTRIBUTION),
            "splink": splink_runner.version() if importlib.util.find_spec("splink") else None,
            "recordlinkage": recordlinkage_runner.version(),
            "anonlink": ", ".join(f"{k} {v}" for k, v in peers.items()) if peers else None,
        }

    def accuracy(self, installed: dict[str, bool]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.options.datasets:
            self.display.step(f"prepare {name}")
            root = self.workdir / "data" / name
            data = (datasets.synth_accuracy(self.options.people, self.options.seed, root)
                    if name == "synth" else datasets.febrl4_accuracy(root))
            runs: dict[str, Any] = {}
            for system in self.options.systems:
                key, label = f"accuracy/{name}/{system}", f"{name}: {system}"
                if not installed[system]:
                    runs[system] = self._skip(MISSING, "not installed")
                elif system == "anonlink":
                    spec = anonlink_runner.accuracy_spec(
                        data, self.workdir / "anonlink",
                        sweep=anonlink_runner.SWEEP if name == "febrl4" else ())
                    score = partial(anonlink_runner.score_accuracy, data)
                    runs[system] = self._peer(key, label, "accuracy", spec, score)
                else:
                    runs[system] = self._main(key, label, f"{system}.accuracy",
                                              {"root": str(root)})
            out[name] = {"label": data.label, "records": data.records,
                         "pairs": [list(p) for p in data.pairs], "runs": runs}
        return out

    def dedup(self, installed: dict[str, bool]) -> dict[str, Any]:
        """Deduplication of one file per data set: Fedlink and Splink (``dedupe_only``)."""
        out: dict[str, Any] = {}
        for name in self.options.dedup_datasets:
            self.display.step(f"prepare {name}")
            root = self.workdir / "data" / name
            data = datasets.dedup_accuracy(name, root, people=self.options.people,
                                           seed=self.options.seed)
            runs: dict[str, Any] = {}
            for system in ("fedlink", "splink"):
                key, label = f"dedup/{name}/{system}", f"{name} dedup: {system}"
                if not installed[system]:
                    runs[system] = self._skip(MISSING, "not installed")
                else:
                    runs[system] = self._main(key, label, f"{system}.dedup",
                                              {"root": str(root)})
            out[name] = {"label": data.label, "records": data.records, "runs": runs}
        return out

    def throughput(self, installed: dict[str, bool]) -> dict[str, Any]:
        n = self.options.throughput_records
        self.display.step(f"prepare {n:,} records")
        raw = datasets.throughput_records(n, self.options.seed)
        root = self.workdir / "throughput"
        root.mkdir(parents=True, exist_ok=True)
        raw.to_parquet(root / "raw.parquet", index=False)
        out = {"records": n, "fedlink": self._main(
            "throughput/fedlink", "encode: fedlink node path", "fedlink.throughput",
            {"raw": str(root / "raw.parquet")})}
        if installed["anonlink"]:
            clean = datasets.clean_frame(raw, NormalizationOptions())
            spec = anonlink_runner.throughput_spec(clean, root)
            out["clkhash"] = self._peer("throughput/clkhash", "encode: clkhash", "encode", spec,
                                        lambda r: r)
        else:
            out["clkhash"] = self._skip(MISSING, "not installed")
        return out

    def scale(self, installed: dict[str, bool]) -> dict[str, Any]:
        o = self.options
        out: dict[str, Any] = {"size": o.scale, "anonlink_size": o.anonlink_scale}
        cache = str(o.cache_dir)
        big = self._main("scale/prepare", f"prepare {o.scale:,} × {o.scale:,} tokens",
                         "fedlink.scale_prepare", {"size": o.scale, "seed": o.seed,
                                                   "cache_dir": cache})
        out["prepare"] = big
        out["fedlink"] = (
            self._main("scale/fedlink", f"hub link {o.scale:,} × {o.scale:,}",
                       "fedlink.scale_link", {"dir": big["result"]["dir"]})
            if big["status"] == OK else self._skip(SKIPPED, "preparation failed"))
        small = self._main("scale/prepare-small", f"prepare {o.anonlink_scale:,} × "
                           f"{o.anonlink_scale:,}", "fedlink.scale_prepare",
                           {"size": o.anonlink_scale, "seed": o.seed, "cache_dir": cache,
                            "clean": True})
        if small["status"] != OK:
            out["fedlink_small"] = self._skip(SKIPPED, "preparation failed")
            out["anonlink"] = self._skip(SKIPPED, "preparation failed")
            return out
        folder = Path(small["result"]["dir"])
        out["fedlink_small"] = self._main(
            "scale/fedlink-small", f"hub link {o.anonlink_scale:,} × {o.anonlink_scale:,}",
            "fedlink.scale_link", {"dir": str(folder)})
        if not installed["anonlink"]:
            out["anonlink"] = self._skip(MISSING, "not installed")
            return out
        import pandas as pd

        left = pd.read_parquet(folder / "k12-clean.parquet")
        right = pd.read_parquet(folder / "workforce-clean.parquet")
        spec = anonlink_runner.scale_spec(left, right, self.workdir / "anonlink")
        out["anonlink"] = self._peer(
            "scale/anonlink", f"anonlink {o.anonlink_scale:,} × {o.anonlink_scale:,}", "scale",
            spec, partial(anonlink_runner.score_scale, left, right))
        return out

    def ladder(self) -> dict[str, Any]:
        """The partitioned engine at each ladder size on this machine's CPUs, then at
        ``workers_size`` with each worker count (a size's run with as many workers as
        CPUs is reused)."""
        o = self.options
        cpus = os.cpu_count() or 1
        out: dict[str, Any] = {"sizes": {}, "workers": {}, "cpus": cpus,
                               "workers_size": o.workers_size}
        dirs: dict[int, str] = {}
        for size in sorted(set(o.ladder) | {o.workers_size}):
            prep = self._main(f"ladder/prepare-{size}", f"prepare {size:,} × {size:,} tokens",
                              "fedlink.ladder_prepare",
                              {"size": size, "seed": o.seed, "cache_dir": str(o.cache_dir)})
            if prep["status"] == OK:
                dirs[size] = prep["result"]["dir"]
            if size not in o.ladder:
                continue
            out["sizes"][str(size)] = (
                self._main(f"ladder/link-{size}", f"partitioned link {size:,} × {size:,} "
                           f"({cpus} workers)", "fedlink.ladder_link",
                           {"dir": dirs[size], "workers": cpus})
                if size in dirs else self._skip(SKIPPED, "preparation failed"))
        for workers in o.ladder_workers:
            reuse = out["sizes"].get(str(o.workers_size))
            if workers == cpus and reuse is not None:
                out["workers"][str(workers)] = reuse
                self.display.done()
                continue
            out["workers"][str(workers)] = (
                self._main(f"ladder/workers-{workers}", f"partitioned link {o.workers_size:,} "
                           f"× {o.workers_size:,} ({workers} workers)", "fedlink.ladder_link",
                           {"dir": dirs[o.workers_size], "workers": workers})
                if o.workers_size in dirs else self._skip(SKIPPED, "preparation failed"))
        out["node"] = self._main("ladder/node-stream", f"one node streams {o.node_records:,} "
                                 "records", "fedlink.node_stream", {"records": o.node_records})
        return out

    def privacy(self) -> dict[str, Any]:
        """The attack suite on both encodings, one step per project size."""
        return {
            str(size): self._main(f"privacy/{size}", f"attacks on a {size:,}-person project",
                                  "fedlink.privacy", {"people": size, "seed": self.options.seed})
            for size in self.options.privacy_sizes
        }

    def run(self) -> dict[str, Any]:
        o = self.options
        results: dict[str, Any] = {"meta": machine_info() | {"command": o.command}}
        with self.display.progress:
            self.display.step("versions")
            versions = self.versions()
            results["meta"]["versions"] = versions
            installed = {s: s in o.systems and (versions.get(s) is not None or s == "fedlink")
                         for s in SYSTEMS}
            if o.wants("accuracy"):
                results["accuracy"] = self.accuracy(installed)
                if o.dedup_datasets:
                    results["dedup"] = self.dedup(installed)
            if o.wants("speed"):
                results["throughput"] = self.throughput(installed)
                if not o.skip_scale:
                    results["scale"] = self.scale(installed)
                    results["ladder"] = self.ladder()
            if o.wants("privacy"):
                results["privacy"] = self.privacy()
            if o.wants("load"):
                results["load"] = self._main(
                    "load", "hub under load", "fedlink.load",
                    {"clients": list(o.load_clients), "seconds": o.load_seconds})
            self.display.step("done")
        results["meta"]["load_after"] = load_average()
        return results


def run_bench(options: BenchOptions, console: Console | None = None,
              workdir: Path | None = None) -> dict[str, Any]:
    """Run the benchmark; intermediate files go to ``workdir`` (a temporary directory by
    default, removed afterwards); cached scale tables to ``options.cache_dir``."""
    console = console or Console(stderr=True)
    if workdir is not None:
        return Bench(options, console, workdir).run()
    with tempfile.TemporaryDirectory(prefix="fedlink-bench-") as tmp:
        return Bench(options, console, Path(tmp)).run()
