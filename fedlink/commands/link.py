"""``fedlink link FILE [FILE …] --out clusters.csv``: offline linkage of local files.

One file is deduplicated; ``--dedup SOURCE`` (or ``all``) lets a source of several hold
duplicates.

Each file is one agency; its rows are encoded exactly as a node encodes them (throwaway
keys) and linked by the hub's engine. Output ``source,record_id,cluster_id`` has every
input record exactly once. The work is in :mod:`fedlink.linkfiles`, imported when the
command runs so other ``fedlink`` commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("link")(link_files)


def link_files(
    files: Annotated[list[Path], typer.Argument(help="CSV files, one per agency.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the clusters CSV.")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Write report.json and report.html here.")
    ] = None,
    maps: Annotated[
        list[str] | None, typer.Option("--map", help="Rename a column: local=canonical.")
    ] = None,
    date_order: Annotated[str, typer.Option("--date-order", help="MDY or DMY.")] = "MDY",
    postal_format: Annotated[str, typer.Option("--postal-format", help="us or any.")] = "us",
    threshold: Annotated[float, typer.Option(help="Minimum posterior match probability.")] = 0.5,
    max_block: Annotated[int, typer.Option(help="Largest block compared, per side.")] = 500,
    method: Annotated[str, typer.Option(help="em (multi-level EM) or ecm.")] = "em",
    truth: Annotated[
        str | None, typer.Option(help="Column with the true person id: print P/R/F1.")
    ] = None,
    dedup: Annotated[
        list[str] | None,
        typer.Option(help="A source (file stem) that may hold duplicates, or 'all'; "
                     "repeatable. A single file is always deduplicated."),
    ] = None,
) -> None:
    """Link several agencies' CSV files into people, or deduplicate one, offline.

    Rows are encoded exactly as a node encodes them (throwaway keys) and linked by the
    hub's engine; OUT gets source,record_id,cluster_id for every input record. A single
    file, and every file named by --dedup, may hold several records of one person.
    """
    from fedlink.linkfiles import LinkOptions, run

    options = LinkOptions(
        out=out,
        report=report,
        maps=tuple(maps or ()),
        date_order=date_order,
        postal_format=postal_format,
        threshold=threshold,
        max_block=max_block,
        method=method,
        truth=truth,
        dedup=tuple(dedup or ()),
    )
    run(files, options)
