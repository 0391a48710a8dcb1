"""``fedlink node dictionary show|publish|classify``: the node's living data dictionary.

``show`` recomputes it from ``node.toml`` and the node store (years, completeness per year,
code lists with small counts suppressed), flags descriptions the steward still has to
write, and lists what changed since the last publication; ``publish`` sends it to the hub
as a node-signed message that replaces the agency's catalog (docs/agency-node.md);
``classify`` is the steward's decision on a variable's classification, init's proposal
included (docs/classification.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fedlink.commands.node import DirOption, _hub_client, _open, _out, node_app

if TYPE_CHECKING:
    from protocol.wire import CatalogVariable

dictionary_app = typer.Typer(help="The data dictionary researchers read before they request.",
                             no_args_is_help=True)
node_app.add_typer(dictionary_app, name="dictionary")


def register(_app: typer.Typer) -> None:
    """The commands are attached to ``fedlink node`` at import (see ``dictionary_app``)."""


def _years(variable: CatalogVariable) -> str:
    years = variable.years
    if not years:
        return "none (no request can ask for it)"
    if list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(map(str, years))


def report_changes(node_dir: Path) -> None:
    """After ingest: say whether the dictionary researchers see is now out of date."""
    from agency_node.services.dictionary import changes, compute, load_published, placeholders

    with _open(node_dir) as runtime:
        current = compute(runtime.settings.node, runtime.sessions)
        published = load_published(runtime.settings.dir)
    diff = changes(published, current)
    if published is None:
        _out.print("data dictionary: not published from this node yet — after enrolling, "
                   "run `fedlink node dictionary publish`")
    elif diff:
        _out.print(f"data dictionary: {len(diff)} change(s) since it was last published "
                   "— run `fedlink node dictionary publish`")
    todo = placeholders(current)
    if todo:
        _out.print(f"data dictionary: describe {', '.join(todo)} in node.toml "
                   "(placeholder descriptions)")


@dictionary_app.command("show")
def show(
    node_dir: DirOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The current dictionary, its placeholders and what changed since it was published."""
    from agency_node.services.dictionary import (
        DICTIONARY_MIN_CELL,
        changes,
        compute,
        grain,
        load_published,
        placeholders,
    )

    with _open(node_dir) as runtime:
        current = compute(runtime.settings.node, runtime.sessions)
        diff = changes(load_published(runtime.settings.dir), current)
        persons = grain(runtime.settings.node, runtime.sessions)
        declared_variables = runtime.settings.node.variables
    if as_json:
        typer.echo(json.dumps({"dictionary": [v.model_dump(mode="json") for v in current],
                               "placeholders": placeholders(current),
                               "unpublished_changes": diff, "persons": persons}, indent=2))
        return
    _print_grain(persons, DICTIONARY_MIN_CELL)
    for v in current:
        flag = "  [placeholder description — write it in node.toml]" \
            if v.description_placeholder else ""
        _out.print(f"{v.name} ({v.type}, {v.classification}){flag}")
        declared = declared_variables.get(v.name)
        if declared is not None and declared.classification_reason:
            # Init's proposal (docs/classification.md): the steward keeps or changes it.
            _out.print(f"  classification: {declared.classification_reason}")
        _out.print(f"  {v.description or '(no description)'}")
        _out.print(f"  years: {_years(v)}")
        if v.completeness:
            _out.print("  completeness: " + ", ".join(f"{c.year} {c.percent}%"
                                                       for c in v.completeness))
        if v.codes:
            _out.print("  codes: " + ", ".join(
                f"{c.code}{'=' + c.label if c.label else ''} "
                f"({c.count if c.count is not None else f'<{DICTIONARY_MIN_CELL}'})"
                for c in v.codes))
    if diff:
        _out.print("not yet published: " + "; ".join(diff))
    else:
        _out.print("the hub has this dictionary")


def _print_grain(persons: dict[str, object], min_cell: int) -> None:
    """The data's grain, for researchers: counts only (fewer than ``min_cell``: withheld)."""
    def count(value: object) -> str:
        return f"<{min_cell}" if value is None else str(value)

    spread = persons["rows_per_person"]
    assert isinstance(spread, dict)
    _out.print(f"grain: {persons['grain']}; {persons['persons']} persons, {persons['rows']} "
               f"rows; rows per person min {spread['min']}, median {spread['median']}, max "
               f"{spread['max']}; persons with more than one identity version: "
               f"{count(persons['persons_with_several_identity_versions'])}")
    periods = persons["periods"]
    assert isinstance(periods, list)
    for period in periods:
        _out.print(f"  periods ({period['kind']}): {period['first']} to {period['last']}, "
                   f"{count(period['rows'])} rows")


@dictionary_app.command("publish")
def publish(node_dir: DirOption) -> None:
    """Sign the current dictionary with the node key and replace the agency's catalog at
    the hub with it."""
    from agency_node.services.dictionary import publish as publish_dictionary

    with _open(node_dir) as runtime, _hub_client(runtime) as client:
        result = publish_dictionary(runtime, client)
    _out.print(f"dictionary of {result.agency} published: {result.variables} variable(s)"
               + (f"; changes: {'; '.join(result.changes)}" if result.changes else ""))
    if result.placeholders:
        _out.print(f"placeholder descriptions (researchers see them as not yet written): "
                   f"{', '.join(result.placeholders)}")


@dictionary_app.command("classify")
def classify(
    variable: Annotated[str, typer.Argument(help="The variable's name in node.toml.")],
    level: Annotated[str, typer.Argument(
        help="public, internal, confidential or restricted (docs/classification.md).")],
    node_dir: DirOption,
) -> None:
    """Confirm or change a variable's classification (init's proposal included); audited,
    published with the next `fedlink node dictionary publish`."""
    from agency_node.services.classification import classify as classify_variable

    done = classify_variable(node_dir, variable=variable, level=level)
    _out.print(f"{done.variable}: {done.before} → {done.after}"
               + (f" (init proposed: {done.proposal})" if done.proposal else "")
               + "; run `fedlink node dictionary publish` to tell the hub")
