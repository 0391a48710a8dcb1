"""``fedlink bench``: Fedlink next to Splink, recordlinkage and anonlink, one run, one table.

Accuracy (precision, recall, F1 per agency pair) on the synthetic state and on FEBRL4;
deduplication of one file (FEBRL3, FEBRL2) next to Splink's, F1 over all true pairs;
node encoding throughput next to clkhash's; hub linkage time and peak memory at
``--scale`` × ``--scale`` next to anonlink's at ``--anonlink-scale``. Prints the tables
and writes them as Markdown (``--out``). The peers come from the ``[bench]`` extra and,
for anonlink + clkhash, from ``.venv-bench-peers`` (``make bench`` installs both); a peer
that is missing gets a "not installed" row. See :mod:`fedlink.bench`.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fedlink.errors import CommandError


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)


def _choices(value: str, allowed: tuple[str, ...], option: str) -> tuple[str, ...]:
    chosen = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen:
        raise CommandError(f"{option} takes a comma-separated subset of {', '.join(allowed)}")
    return chosen


def _numbers(value: str, option: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(x) for x in value.split(",") if x.strip())
    except ValueError:
        numbers = ()
    if not numbers or min(numbers) < 1:
        raise CommandError(f"{option} takes whole numbers ≥ 1 separated by commas "
                           f"(got {value!r})")
    return numbers


def bench(
    people: Annotated[int, typer.Option(help="Synthetic population for accuracy.")] = 20_000,
    scale: Annotated[int, typer.Option(help="Records per side of the hub scale test.")] = (
        1_000_000
    ),
    skip_scale: Annotated[bool, typer.Option("--skip-scale", help="Skip the scale tests.")] = (
        False
    ),
    only: Annotated[
        str | None, typer.Option(help="Run only 'accuracy', 'speed', 'privacy' or 'load'.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Markdown file to write.")] = Path(
        "docs/benchmarks.md"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    datasets: Annotated[str, typer.Option(help="Accuracy data sets: synth,febrl4.")] = (
        "synth,febrl4"
    ),
    dedup_datasets: Annotated[
        str, typer.Option(help="Deduplication data sets: febrl3,febrl2,synth-k12,"
                          "synth-highered,synth-workforce (an agency's persons of the "
                          "longitudinal synthetic state, --people and --seed), or none.")
    ] = "febrl3,febrl2,synth-k12,synth-highered,synth-workforce",
    systems: Annotated[
        str, typer.Option(help="Systems: fedlink,splink,recordlinkage,anonlink.")
    ] = "fedlink,splink,recordlinkage,anonlink",
    throughput_records: Annotated[int, typer.Option(help="Records encoded for speed.")] = (
        100_000
    ),
    anonlink_scale: Annotated[int, typer.Option(help="Records per side for anonlink.")] = (
        50_000
    ),
    ladder: Annotated[
        str, typer.Option(help="Records a side of the partitioned engine's scale ladder "
                          "(add 10000000 for the 10M × 10M run, about 6 min more once "
                          "its tables are prepared).")
    ] = "1000000,3000000",
    ladder_workers: Annotated[
        str, typer.Option(help="Local worker counts measured at --workers-size.")
    ] = "1,2,4",
    workers_size: Annotated[
        int, typer.Option(help="Records a side of the worker-count runs.")
    ] = 3_000_000,
    node_records: Annotated[
        int, typer.Option(help="Records of the agency node that streams one match request.")
    ] = 1_000_000,
    privacy_sizes: Annotated[
        str, typer.Option(help="People in each project the attack suite attacks.")
    ] = "2000,20000",
    load_clients: Annotated[
        str, typer.Option(help="Concurrent clients of each step of the hub load test.")
    ] = "1,50,200",
    load_seconds: Annotated[
        float, typer.Option(help="Seconds of each step of the hub load test.")
    ] = 60.0,
    peers_python: Annotated[
        Path | None, typer.Option(help="Interpreter of the anonlink + clkhash environment.")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Where the scale test's token tables are cached.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per step.")] = 3600.0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the raw results as JSON.")
    ] = None,
    readme: Annotated[
        Path | None,
        typer.Option(help="Also rewrite this README's marked benchmark section "
                     "(`make bench` passes README.md).", show_default=False),
    ] = None,
) -> None:
    """Benchmark Fedlink against Splink, recordlinkage and anonlink on the same data."""
    from fedlink.bench.harness import (
        DATASETS,
        DEDUP_DATASETS,
        SYSTEMS,
        BenchOptions,
        default_cache_dir,
        run_bench,
    )
    from fedlink.bench.readme import END, START, has_section, update_readme
    from fedlink.bench.report import markdown, print_tables

    if only not in (None, "accuracy", "speed", "privacy", "load"):
        raise CommandError("--only takes accuracy, speed, privacy or load")
    try:
        clients = tuple(int(x) for x in load_clients.split(",") if x.strip())
    except ValueError:
        clients = ()
    if not clients or min(clients) < 1 or load_seconds <= 0:
        raise CommandError("--load-clients takes whole numbers ≥ 1 separated by commas and "
                           "--load-seconds a positive number")
    for name, value in (("--people", people), ("--scale", scale),
                        ("--throughput-records", throughput_records),
                        ("--anonlink-scale", anonlink_scale)):
        if value < 1:
            raise CommandError(f"{name} must be at least 1 (got {value})")
    ladder_sizes, worker_counts = _numbers(ladder, "--ladder"), _numbers(ladder_workers,
                                                                           "--ladder-workers")
    if workers_size < 1:
        raise CommandError(f"--workers-size must be at least 1 (got {workers_size})")
    if node_records < 1:
        raise CommandError(f"--node-records must be at least 1 (got {node_records})")
    if readme is not None and not has_section(readme):
        raise CommandError(f"--readme {readme}: no file with a benchmark section (the lines "
                           f"{START} and {END})")
    try:
        sizes = tuple(int(x) for x in privacy_sizes.split(",") if x.strip())
    except ValueError:
        raise CommandError(f"--privacy-sizes takes whole numbers separated by commas "
                           f"(got {privacy_sizes!r})") from None
    if not sizes or min(sizes) < 50:
        raise CommandError("--privacy-sizes needs at least one size of 50 people or more")
    chosen_systems = _choices(systems, SYSTEMS, "--systems")
    if "fedlink" not in chosen_systems:
        raise CommandError("--systems must include fedlink")
    options = BenchOptions(
        people=people,
        seed=seed,
        scale=scale,
        skip_scale=skip_scale,
        only=only,
        datasets=_choices(datasets, DATASETS, "--datasets"),
        dedup_datasets=() if dedup_datasets.strip() == "none"
        else _choices(dedup_datasets, DEDUP_DATASETS, "--dedup-datasets"),
        systems=chosen_systems,
        throughput_records=throughput_records,
        anonlink_scale=anonlink_scale,
        ladder=ladder_sizes,
        ladder_workers=worker_counts,
        workers_size=workers_size,
        node_records=node_records,
        privacy_sizes=sizes,
        load_clients=clients,
        load_seconds=load_seconds,
        peers_python=peers_python,
        cache_dir=cache_dir or default_cache_dir(),
        timeout=timeout,
        command=shlex.join(["fedlink", *sys.argv[1:]]) if sys.argv[1:2] == ["bench"]
        else "fedlink bench",
    )
    console = Console(stderr=True)
    results = run_bench(options, console)
    stdout = Console()
    if not stdout.is_terminal:  # a log file: no need to fold the tables into 80 columns
        stdout = Console(width=180)
    print_tables(results, stdout)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(results), encoding="utf-8")
    console.print(f"wrote {out}", highlight=False)
    if readme is not None and update_readme(readme, results,
                                            details=_relative(out, readme.parent)):
        console.print(f"updated the benchmark section of {readme}", highlight=False)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {json_out}", highlight=False)


def _relative(path: Path, base: Path) -> str:
    """``path`` as the README links it: relative to the README's folder when inside it."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()
