"""``fedlink attack``: play a curious hub against a synthetic project's token tables.

Thin: checks its options, then calls :func:`fedlink.attack.run_privacy` with a progress
display on stderr, prints a table of recall and precision per attack, target and scheme,
and the shape leaks; ``--json`` also writes the full results. Every expected failure is a
:class:`CommandError` (one line, non-zero exit). ``docs/privacy-attacks.md`` describes
the attacks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fedlink.errors import CommandError

_SCHEME_CHOICES = ("legacy", "current", "both")


def register(app: typer.Typer) -> None:
    """Add ``attack`` to the ``fedlink`` command."""
    app.command(name="attack")(attack)


def _results_table(results: dict[str, Any]) -> Table:
    table = Table(
        title=f"Curious-hub attacks, {results['people']:,} people (seed {results['seed']})"
    )
    for name in ("scheme", "attack", "target", "recall", "precision", "guesses"):
        table.add_column(
            name, justify="right" if name in ("recall", "precision", "guesses") else "left"
        )
    for scheme, result in results["schemes"].items():
        for row in result["rows"]:
            table.add_row(
                scheme, row["attack"], row["target"], f"{row['recall']:.3f}",
                f"{row['precision']:.3f}", f"{row['guesses']:,}",
            )  # fmt: skip
    return table


def _leaks_table(results: dict[str, Any]) -> Table:
    from fedlink.attack.leaks import strongest_count_leaks

    table = Table(title="What the table's shape gives away")
    for name in ("scheme", "leak", "measured"):
        table.add_column(name)
    for scheme, result in results["schemes"].items():
        leaks = result["leaks"]
        for column, r in leaks["bit_count_vs_length_r"].items():
            shown = "n/a (constant count)" if r is None else f"r = {r:.3f}"
            table.add_row(scheme, f"{column}: feature count vs value length", shown)
        for item in strongest_count_leaks(leaks["token_counts"]).values():
            table.add_row(
                scheme, f"{item['column']} count → {item['label']}",
                f"accuracy {item['accuracy']:.3f} (majority guess {item['baseline']:.3f})",
            )  # fmt: skip
        for column, share in leaks["null_share"].items():
            if share > 0:
                table.add_row(scheme, f"{column} null: field missing", f"{share:.1%} of records")
    return table


def attack(
    people: Annotated[int, typer.Option("--people", help="Size of the synthetic state.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic state.")] = 0,
    scheme: Annotated[
        str, typer.Option("--scheme", help="Encoding attacked: legacy, current or both.")
    ] = "both",
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the full results here (JSON).")
    ] = None,
) -> None:
    """Play a curious hub: recover names from one synthetic project's token tables with
    public knowledge only, and report recall and precision per attack and field."""
    from fedlink.attack import run_privacy

    if people < 1:
        raise CommandError(f"--people must be at least 1 (got {people})")
    if seed < 0:
        raise CommandError(f"--seed must be 0 or more (got {seed})")
    if scheme not in _SCHEME_CHOICES:
        raise CommandError(f"--scheme must be one of {', '.join(_SCHEME_CHOICES)} (got {scheme!r})")
    if json_path is not None and json_path.is_dir():
        raise CommandError(f"--json {json_path} is a directory")
    schemes = ("legacy", "current") if scheme == "both" else (scheme,)
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as progress:  # docs/cli.md, Progress
        task = progress.add_task("start", total=None)
        results = run_privacy(
            people, seed, schemes, step=lambda s: progress.update(task, description=s)
        )
    out = Console()
    out.print(_results_table(results))
    out.print(_leaks_table(results))
    if json_path is not None:
        try:
            json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
        except OSError as exc:
            raise CommandError(f"cannot write {json_path}: {exc.strerror or exc}") from None
        typer.echo(f"results written to {json_path}")
