"""``fedlink demo``: one hub and three agency nodes as real processes on loopback, walking
the whole VLDS flow with progress and a summary (docs/demo.md). The work is in
:mod:`fedlink.demo`, imported when the command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedlink.errors import CommandError

#: Synthetic people by default: the whole demo runs in well under two minutes on a
#: two-core machine (docs/demo.md, "Timing").
DEFAULT_PEOPLE = 3000


def register(app: typer.Typer) -> None:
    app.command(name="demo")(demo)


def demo(
    people: Annotated[int, typer.Option(
        "--people", help="Size of the synthetic population.")] = DEFAULT_PEOPLE,
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where everything goes (default: a new temporary directory).",
        show_default=False)] = None,
    keep: Annotated[bool, typer.Option(
        "--keep", help="Leave the hub and nodes running at the end.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an earlier demo in a non-empty --workdir.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic data.")] = 1,
    fail_node: Annotated[str, typer.Option(
        "--fail-node", metavar="AGENCY",
        help="Stop this agency's node (K12, HE or WF) once the linkage run has started, "
             "to show how a run fails.")] = "",
    stop: Annotated[bool, typer.Option(
        "--stop", help="Stop the services a --keep demo left running in --workdir.")] = False,
    longitudinal: Annotated[bool, typer.Option(
        "--longitudinal/--no-longitudinal",
        help="Agencies hold rows per person per period under their own person ids, and the "
             "researcher receives person × period tables (default); --no-longitudinal: one "
             "record per person per agency.")] = True,
) -> None:
    """Run the whole federation on this machine: synthetic records, one hub and three
    agency nodes, the request, approvals, linkage, extract, audit and expiry."""
    from fedlink.demo.federation import AGENCIES
    from fedlink.demo.runner import DemoOptions, run_demo, stop_demo

    if stop:
        if workdir is None:
            raise CommandError("--stop needs the --workdir of the demo to stop")
        stopped = stop_demo(workdir)
        typer.echo(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
        return
    codes = [a.code for a in AGENCIES]
    if fail_node and fail_node.upper() not in codes:
        raise CommandError(f"--fail-node takes one of {', '.join(codes)} (got {fail_node!r})")
    run_demo(DemoOptions(people=people, workdir=workdir, keep=keep, force=force, seed=seed,
                         fail_node=fail_node, longitudinal=longitudinal))
