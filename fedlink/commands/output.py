"""``fedlink output …``: the airlock from the command line (docs/cli.md, "Output review").

Researchers (the project's personnel) ``submit`` an output table and follow its status;
each agency's steward ``release``\\ s it or ``return``\\ s it with comments — the same API,
rule and audit events as ``POST /v1/outputs/{id}/reviews`` and the outputs web page
(``/outputs``). ``list --pending`` is a steward's work list: outputs still waiting for the
stewards that their agency has not reviewed yet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

output_app = typer.Typer(name="output", help="Outputs through the airlock: protect a "
                         "table (automatic suppression), make a public-use file, submit, "
                         "list, show, and the stewards' release or return.",
                         no_args_is_help=True)

OutputId = Annotated[str, typer.Argument(help="The output id (out-…).")]
#: As the API's limits (hub.api.schemas): checked here so a mistake costs no round trip.
MAX_CSV_BYTES = 2_000_000
MAX_COMMENTS = 5000
KINDS = ("frequency", "means", "records")


def read_csv_file(path: Path, *, too_large: str = "") -> str:
    """The UTF-8 text of the CSV at ``path`` (at most :data:`MAX_CSV_BYTES`), or a one-line
    :class:`CommandError`; ``too_large`` ends that message with what to send instead."""
    if not path.is_file():
        raise CommandError(f"{path} does not exist")
    data = path.read_bytes()
    if len(data) > MAX_CSV_BYTES:
        raise CommandError(f"{path} is larger than 2 MB{too_large}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text") from None


def show_prepared(view: dict[str, Any], output: dict[str, Any] | None, *, out: Path | None,
                  json_: bool, render: Callable[[dict[str, Any]], list[str]]) -> None:
    """What ``output protect`` and ``output public-use`` print: the prepared CSV written
    to ``out``, then the hub's answer as JSON or as the lines ``render`` makes of it, and
    the airlock submission."""
    if out is not None:
        out.write_text(view["csv"], encoding="utf-8")
    if json_:
        typer.echo(hub_options.dumps(view if output is None else {**view, "output": output}))
        return
    for line in render(view):
        typer.echo(line)
    if output is not None:
        typer.echo(f"submitted to the airlock: {output['id']} {output['status']}")


def register(app: typer.Typer) -> None:
    app.add_typer(output_app, name="output")


def _line(output: dict[str, Any]) -> str:
    checks = "checks passed" if (output.get("checks") or {}).get("passed") else "checks failed"
    return (f"{output['id']}  {output['status']:<14} {output['project_id']:<18} "
            f"{output['kind']:<9} {checks:<13} {output['name']}")


@output_app.command("list")
def list_(
    hub: HubUrlOption = None, token: TokenOption = None,
    pending: Annotated[bool, typer.Option(
        "--pending", help="Only outputs waiting for the stewards.")] = False,
    project: Annotated[str | None, typer.Option(help="Only this project's outputs.")] = None,
) -> None:
    """The outputs you may see (researchers: their projects'; stewards: their agency's)."""
    with hub_options.client(hub, token) as client:
        rows = client.list_outputs()
    rows = [r for r in rows if (not pending or r["status"] == "pending_review")
            and (project is None or r["project_id"] == project)]
    for row in rows:
        typer.echo(_line(row))
    if not rows:
        typer.echo("no outputs")


def _describe(output: dict[str, Any]) -> list[str]:
    checks = output.get("checks") or {}
    lines = [_line(output), f"  sha256 {output['sha256']}",
             f"  submitted {output['created_at']}; decided {output['decided_at'] or '—'}"]
    if output.get("description"):
        lines.append(f"  {output['description']}")
    findings = checks.get("findings") or []
    lines.append(f"  automatic checks: {'passed' if checks.get('passed') else 'failed'}, "
                 f"{len(findings)} finding{'' if len(findings) == 1 else 's'}")
    lines += [f"    - {f.get('check', '?')} at {f.get('where', '?')}: {f.get('detail', '')}"
              for f in findings]
    for review in output.get("reviews") or []:
        done = "released" if review["decision"] == "release" else "returned"
        comments = f": {review['comments']}" if review.get("comments") else ""
        lines.append(f"  {review['agency']} {done} it {review['at']}{comments}")
    return lines


@output_app.command()
def show(output_id: OutputId, hub: HubUrlOption = None, token: TokenOption = None,
         json_: Annotated[bool, typer.Option("--json", help="The whole output as JSON "
                                             "(with its CSV).")] = False,
         csv_out: Annotated[Path | None, typer.Option(
             "--csv", help="Also write the table (CSV) to this file.", show_default=False)]
         = None) -> None:
    """One output: status, automatic checks and the stewards' reviews."""
    with hub_options.client(hub, token) as client:
        output = client.get_output(output_id)
    if csv_out is not None:
        csv_out.write_text(output.get("content") or "", encoding="utf-8")
    if json_:
        typer.echo(hub_options.dumps(output))
        return
    for line in _describe(output):
        typer.echo(line)


@output_app.command()
def submit(
    project_id: Annotated[str, typer.Argument(help="The ready project the table comes from.")],
    csv_file: Annotated[Path, typer.Option("--csv", help="The table (CSV, header first, at "
                                           "most 2 MB).", show_default=False)],
    name: Annotated[str, typer.Option(help="A name for the table (published once "
                                      "released).", show_default=False)],
    kind: Annotated[str, typer.Option(help="frequency (counts), means or records.")]
    = "frequency",
    description: Annotated[str, typer.Option(help="What the table shows.")] = "",
    count_column: Annotated[str, typer.Option(help="The column of cell counts "
                                              "(frequency tables).")] = "n",
    hub: HubUrlOption = None, token: TokenOption = None,
) -> None:
    """Submit a table for the disclosure checks and the stewards' release (personnel)."""
    if kind not in KINDS:
        raise CommandError(f"--kind must be one of {', '.join(KINDS)}")
    text = read_csv_file(csv_file, too_large="; the airlock takes tables, not extracts")
    with hub_options.client(hub, token) as client:
        output = client.submit_output(project_id=project_id, name=name, kind=kind, csv=text,
                                      description=description, count_column=count_column)
    for line in _describe(output):
        typer.echo(line)
    if output["status"] == "returned":
        typer.echo("  returned at once: fix the findings above and submit again")


def _review(output_id: str, decision: str, comments: str, hub: str | None,
            token: Path | None) -> None:
    if len(comments) > MAX_COMMENTS:
        raise CommandError(f"--comments is longer than {MAX_COMMENTS} characters")
    with hub_options.client(hub, token) as client:
        output = client.review_output(output_id, decision, comments)
    typer.echo(f"output {output['id']} is {output['status']}")


@output_app.command()
def release(output_id: OutputId, hub: HubUrlOption = None, token: TokenOption = None,
            comments: Annotated[str, typer.Option(help="Optional note for the "
                                                  "researcher.")] = "") -> None:
    """Release an output for your agency (steward); public once every agency released it."""
    _review(output_id, "release", comments, hub, token)


@output_app.command("return")
def return_(output_id: OutputId, hub: HubUrlOption = None, token: TokenOption = None,
            comments: Annotated[str, typer.Option(help="What the researcher must change "
                                                  "(required).")] = "") -> None:
    """Return an output to the researcher with comments (steward); one return returns it."""
    if not comments.strip():
        raise CommandError("returning an output needs --comments for the researcher")
    _review(output_id, "return", comments, hub, token)
