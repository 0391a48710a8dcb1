"""``fedlink synth``: write synthetic K-12, higher-education and workforce extracts.

Thin: checks its options and the output directory *before* the (possibly long)
generation, then calls :func:`fedlink.synth.generate` and :func:`fedlink.synth.write`,
showing progress on stderr. Every expected failure is a :class:`CommandError` (one line).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from fedlink.errors import CommandError


def register(app: typer.Typer) -> None:
    """Add ``synth`` to the ``fedlink`` command."""
    app.command(name="synth")(synth)


def _check_output(out: Path, overwrite: bool, targets: list[Path]) -> None:
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} exists and is not a directory")
    if not overwrite:
        existing = [p for p in targets if p.exists()]
        if existing:
            raise CommandError(
                f"{existing[0]} already exists (use --overwrite to replace the files in {out})"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create {out}: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise CommandError(f"cannot write to {out}: permission denied")


def synth(
    people: Annotated[
        int, typer.Option("--people", help="Size of the synthetic population.", show_default=False)
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the CSV files.", show_default=False)
    ],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 0,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace existing files in --out.")
    ] = False,
    longitudinal: Annotated[
        bool,
        typer.Option(
            "--longitudinal",
            help="One row per person per school year, term or quarter, under each agency's "
            "own person id (with duplicate ids, name changes and moves).",
        ),
    ] = False,
) -> None:
    """Write k12.csv, highered.csv and workforce.csv: one synthetic population seen by
    three agencies, with realistic errors and a truth_id column for evaluation."""
    from fedlink.synth import AGENCY_FILES, STEPS, generate, output_paths, write

    if people < 1:
        raise CommandError(f"--people must be at least 1 (got {people})")
    if seed < 0:
        raise CommandError(f"--seed must be 0 or more (got {seed})")
    _check_output(out, overwrite, output_paths(out))

    console = Console(stderr=True)
    columns = (
        TextColumn("[progress.description]{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as progress:  # docs/cli.md, Progress
        task = progress.add_task("synth", total=len(STEPS) + len(AGENCY_FILES))
        started = False

        def step(name: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=name)

        frames = generate(people, seed, on_step=step, longitudinal=longitudinal)
        try:
            paths = write(frames, out, overwrite=overwrite, on_step=step)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise CommandError(f"cannot write the files: {exc.strerror or exc}{where}") from None
        progress.advance(task)
        progress.update(task, description="done")

    for path, frame in zip(paths, frames.values(), strict=True):
        typer.echo(f"{path}: {len(frame):,} {'rows' if longitudinal else 'records'}")
