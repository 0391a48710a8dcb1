"""``fedlink hub assembler …``: the assembly role (docs/extracts.md, "Separation of duties").

``init`` creates the assembly key in a directory of its own and publishes its public half
to the hub directory (nodes pin it at enrollment); ``run`` builds the extracts the hub API
queues. The hub API and linkage workers are never given ``--assembly-dir``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from fedlink.commands.hub import DirOption, hub_app

assembler_app = typer.Typer(help="The assembly role: the only holder of the key that opens "
                                 "node extract payloads.", no_args_is_help=True)

AssemblyDirOption = Annotated[
    Path, typer.Option("--assembly-dir", envvar="FEDLINK_ASSEMBLY_DIR",
                       help="The assembler's own directory (never the hub directory).",
                       show_default=False),
]


def register(_app: typer.Typer) -> None:
    hub_app.add_typer(assembler_app, name="assembler")


@assembler_app.command("init")
def init(hub_dir: DirOption, assembly_dir: AssemblyDirOption) -> None:
    """Create the assembly key (0600 in a 0700 directory) and publish its public half."""
    from hub.assembly.keys import create_assembly_key
    from protocol.keyfiles import key_id

    key = create_assembly_key(assembly_dir, hub_dir=hub_dir)
    typer.echo(f"assembly key {key_id(key.public_key())} created in {assembly_dir}")
    typer.echo("give this kid to the agencies out of band: "
               "`fedlink node enroll … --assembly-kid KID` checks it")


@assembler_app.command("run")
def run(
    hub_dir: DirOption,
    assembly_dir: AssemblyDirOption,
    log_level: Annotated[str, typer.Option(
        envvar="FEDLINK_HUB_LOG_LEVEL", help="critical, error, warning, info or debug.")]
    = "info",
) -> None:
    """Build queued extracts until stopped (Ctrl-C or SIGTERM)."""
    import logging.config

    from fedlink.jsonlog import log_config
    from hub.assembly.context import open_assembler
    from hub.assembly.settings import AssemblySettings
    from hub.assembly.worker import Assembler

    logging.config.dictConfig(log_config(log_level.lower()))
    settings = AssemblySettings.load(assembly_dir, hub_dir=hub_dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_assembler(settings) as actx:
        typer.echo(f"assembler {actx.kid} on {actx.hub.settings.dir}; Ctrl-C stops", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            Assembler(actx).run_forever(stop)
    typer.echo("assembler stopped", err=True)
