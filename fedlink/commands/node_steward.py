"""``fedlink node steward keygen | add``: data stewards sign decisions with their own keys.

The steward creates a key pair on their own machine (``keygen``: PEM, mode 0600) and gives
the public key to agency IT, who registers it on the node (``add``). From then on
``fedlink node approve/deny --steward-key FILE`` must be signed by a registered steward
key, and the decision records that key's id (agency_node/services/stewards.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from fedlink.commands.node import DirOption, _open, _out, node_app

steward_app = typer.Typer(name="steward", help="Data stewards' own signing keys.",
                          no_args_is_help=True)
node_app.add_typer(steward_app, name="steward")


def register(_app: typer.Typer) -> None:
    """The commands are attached to ``fedlink node`` at import (see ``steward_app``)."""


@steward_app.command()
def keygen(key_file: Annotated[Path, typer.Option(
        "--key-file", help="Where to create your steward key (PEM, 0600).",
        show_default=False)]) -> None:
    """Create your steward signing key (a new 0600 file); prints its public key."""
    from fedlink.governance_keys import create_key_file
    from protocol.keyfiles import key_id, public_key_to_b64

    key = create_key_file(key_file)
    _out.print(f"created {key_file} (mode 0600)\n  kid:        {key_id(key.public_key())}\n"
               f"  public key: {public_key_to_b64(key.public_key())}\n"
               "give the public key to agency IT: `fedlink node steward add`")


@steward_app.command()
def add(
    node_dir: DirOption,
    public_key: Annotated[str, typer.Option(help="The steward's public key (from keygen).",
                                            show_default=False)],
    label: Annotated[str, typer.Option(help="The steward's name or role.",
                                       show_default=False)],
) -> None:
    """Register a steward's public key on this node (agency IT)."""
    from agency_node.services.stewards import add_steward

    with _open(node_dir) as runtime:
        kid = add_steward(runtime, label=label, public_key=public_key,
                          now=dt.datetime.now(dt.UTC))
    _out.print(f"steward key {kid} ({label}) registered; decisions on this node now need a "
               "registered steward's --steward-key")
