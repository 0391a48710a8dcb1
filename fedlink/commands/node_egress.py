"""``fedlink node egress``: what the node's egress guard refused, for the steward.

Each refusal lists the variable, the kind of identifier found and how many rows — never a
value (docs/agency-node.md, "Egress guard"). The steward then removes or remaps the
variable in ``node.toml``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fedlink.commands.node import DirOption, _open, _out, node_app


def register(_app: typer.Typer) -> None:
    """The command is attached to ``fedlink node`` at import (see :func:`egress`)."""


@node_app.command("egress")
def egress(
    node_dir: DirOption,
    limit: Annotated[int, typer.Option(min=1, help="At most this many refusals.")] = 20,
) -> None:
    """List the extract payloads the egress guard refused (latest last)."""
    from agency_node.services.egress import refusals

    with _open(node_dir) as runtime:
        found = refusals(runtime, limit=limit)
    if not found:
        _out.print("the egress guard has refused no extract payload")
        return
    for refusal in found:
        _out.print(f"{refusal['at']}  project {refusal['project_id']}  run "
                   f"{refusal['run_id']}  ({refusal['rows']} rows): refused")
        for finding in refusal["findings"]:
            _out.print(f"  variable {finding['variable']}: {finding['kind']} in "
                       f"{finding['rows']} rows")
