"""``fedlink output public-use``: a record-level file back from the hub made safe for public
use — every column measured on the data, the standard methods applied and reported — ready
for the airlock as kind ``records`` (docs/public-use-files.md).

The project's agreement must authorise public-use files (``file_types``). ``--out`` writes
the released CSV; ``--submit`` sends it to the airlock straight away. A file that cannot be
made safe is refused by the hub (422 ``public_use_unsafe``, the findings in the message).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.commands.output import output_app, read_csv_file, show_prepared
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

CONTINUOUS = ("recode", "noise")


def register(_app: typer.Typer) -> None:
    """The command is attached to ``fedlink output`` at import (``output_app``)."""


def render(view: dict[str, Any]) -> list[str]:
    """What was done per column and the risk before and after, as text."""
    before, after = view["before"], view["after"]
    lines = [f"{before['rows']} records, {before['columns']} columns, k = {before['k']}: "
             f"combinations of up to {after['combination_sizes_checked']} columns checked",
             f"before: {before['sample_uniques']} sample uniques, {before['special_uniques']} "
             f"special uniques, {before['records_below_k']} records below k, max risk "
             f"{before['max_risk']:.2f}",
             f"after:  {after['sample_uniques']} sample uniques, {after['records_below_k']} "
             f"records below k, max risk {after['max_risk']:.2f}, "
             f"{view['suppressed_cells']} cells suppressed"]
    for name, methods in view["methods"].items():
        lines.append(f"  {name}: {'; '.join(methods) if methods else 'unchanged'}")
    airlock = "passed" if view["airlock_passed"] else "would be returned"
    lines.append(f"airlock checks: {airlock}")
    lines += [f"  {f['check']} ({f['where']}): {f['detail']}" for f in view["airlock_findings"]]
    return lines


@output_app.command("public-use")
def public_use(
    project_id: Annotated[str, typer.Argument(help="The ready project the file comes from.")],
    csv_file: Annotated[Path, typer.Option("--csv", help="The records (CSV, header first, "
                                           "at most 2 MB).", show_default=False)],
    continuous: Annotated[str, typer.Option(help="Continuous columns after top-coding: "
                                            "recode (quantile bands) or noise.")] = "recode",
    out: Annotated[Path | None, typer.Option(help="Write the released file (CSV) here.",
                                             show_default=False)] = None,
    submit: Annotated[bool, typer.Option("--submit", help="Submit the released file to the "
                                         "airlock as records (needs --name).")] = False,
    name: Annotated[str | None, typer.Option(help="With --submit: the file's name "
                                             "(published once released).",
                                             show_default=False)] = None,
    description: Annotated[str, typer.Option(help="With --submit: what the file "
                                             "holds.")] = "",
    json_: Annotated[bool, typer.Option("--json", help="The hub's whole answer as "
                                        "JSON.")] = False,
    hub: HubUrlOption = None, token: TokenOption = None,
) -> None:
    """Make a record-level file safe for public use, measured on every column (personnel)."""
    if continuous not in CONTINUOUS:
        raise CommandError(f"--continuous must be one of {', '.join(CONTINUOUS)}")
    if submit and not name:
        raise CommandError("--submit needs --name for the airlock")
    text = read_csv_file(csv_file)
    with hub_options.client(hub, token) as client:
        view = client.protect_public_use(project_id, text, continuous)
        output = (client.submit_output(project_id=project_id, name=name, kind="records",
                                       csv=view["csv"], description=description)
                  if submit else None)
    show_prepared(view, output, out=out, json_=json_, render=render)
