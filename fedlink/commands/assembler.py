"""``fedlink hub assembler …``: the assembly role (docs/extracts.md, "Separation of duties").

``init`` creates the assembly keys (the HPKE key that opens extract payloads, the signing
key of extract requests) in a directory of its own and publishes their public halves to the
hub directory (nodes pin them at enrollment); ``run`` builds the extracts the hub API
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
                                 "node extract payloads and of the key that signs extract "
                                 "requests.", no_args_is_help=True)
hub_app.add_typer(assembler_app, name="assembler")

AssemblyDirOption = Annotated[
    Path, typer.Option("--assembly-dir", envvar="FEDLINK_ASSEMBLY_DIR",
                       help="The assembler's own directory (never the hub directory).",
                       show_default=False),
]


def register(_app: typer.Typer) -> None:
    """Attached to ``fedlink hub`` at import (see ``assembler_app``)."""


@assembler_app.command("init")
def init(hub_dir: DirOption, assembly_dir: AssemblyDirOption) -> None:
    """Create the assembly keys (HPKE and signing, 0600 in a 0700 directory; whichever is
    missing) and publish their public halves."""
    from hub.assembly.keys import create_assembly_keys

    keys = create_assembly_keys(assembly_dir, hub_dir=hub_dir)
    typer.echo(f"assembly key {keys.hpke_kid} and assembly signing key {keys.signing_kid} "
               f"in {assembly_dir}")
    typer.echo("give both kids to the agencies out of band: `fedlink node enroll … "
               "--assembly-kid KID --assembly-signing-kid KID` checks them")


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
        typer.echo(f"assembler {actx.kid} (signing {actx.signing_kid}) on "
                   f"{actx.hub.settings.dir}; Ctrl-C stops", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            Assembler(actx).run_forever(stop)
    typer.echo("assembler stopped", err=True)
