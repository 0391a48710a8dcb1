"""``fedlink node init``'s choices and report: merge ``--mapping``, ``--map``,
``--record-id``, ``--year-column``, ``--date-order`` and ``--offer`` into
:class:`agency_node.ingest.plan.Choices`, run :func:`agency_node.setup.init_node`, and print
what was decided for every column and why."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agency_node.config import SourceSection
from agency_node.errors import ConfigError
from agency_node.ingest.plan import Choices

_OUTCOME = {
    "record_id": "record id",
    "identity": "identity",
    "year": "year column (variable)",
    "person_id": "person id",
    "period": "period (variable)",
    "ignore": "IGNORED",
    "override": "VARIABLE (override)",
    "variable": "variable",
}


def register(_app: typer.Typer) -> None:
    """Nothing to attach: ``fedlink node init`` (fedlink/commands/node.py) calls in here."""


def build_choices(*, mapping: Path | None, maps: list[str], record_id: str | None,
                  year_column: str | None, date_order: str | None,
                  offers: list[str]) -> Choices:
    """The steward's choices: the mapping file first, options on top of it."""
    from agency_node.ingest.mapping_file import read_mapping_file
    from fedlink.maps import RECORD_ID, parse_maps

    choices = read_mapping_file(mapping) if mapping else Choices()
    # The two longitudinal roles are not identity fields (fedlink link has no use for them).
    roles = {"person_id": "person_id", "period": "period_column"}
    plain: list[str] = []
    for item in maps:
        local, _sep, canonical = item.partition("=")
        if canonical.strip() in roles and local.strip():
            setattr(choices, roles[canonical.strip()], local.strip())
            choices.ignore.pop(local.strip(), None)
        else:
            plain.append(item)
    for local, canonical in parse_maps(plain).items():
        if canonical == RECORD_ID:
            choices.record_id = local
            continue
        # One column per field: a --map replaces what the file said for that field.
        choices.identity = {f: c for f, c in choices.identity.items() if c != local}
        choices.identity[canonical] = local
        choices.ignore.pop(local, None)
    if record_id:
        choices.record_id = record_id
    if year_column is not None:
        choices.year_column = year_column
    if date_order:
        order = date_order.upper()
        if order not in ("MDY", "DMY"):
            raise ConfigError(f"--date-order must be MDY or DMY, not {date_order!r}")
        choices.date_order = order
    for item in offers:
        column, sep, reason = item.partition("=")
        if not sep or not column.strip() or not reason.strip():
            raise ConfigError(f"--offer takes COLUMN=REASON (the reason is recorded), got "
                              f"{item!r}")
        choices.override[column.strip()] = reason.strip()
        choices.ignore.pop(column.strip(), None)
    return choices


def run_init(node_dir: Path, *, agency: str, name: str, section: SourceSection,
             choices: Choices, remap: bool, out: Console) -> None:
    from agency_node.setup import init_node

    result = init_node(node_dir, agency=agency, name=name, source=section, choices=choices,
                       remap=remap)
    plan = result.plan
    done = "re-mapped" if remap else "initialised"
    out.print(f"node {agency} {done} in {result.path.parent} "
              f"({result.rows_scanned} rows profiled)")
    table = Table(title="Column mapping (what each column is, and why)")
    for heading in ("column", "decision", "field", "why"):
        table.add_column(heading)
    for decision in plan.decisions:
        table.add_row(decision.column, _OUTCOME[decision.outcome], decision.target,
                      decision.reason)
    out.print(table)
    out.print(f"  record id: {plan.record_id}; year column: {plan.year_column or '-'}; "
              f"date order: {plan.date_order} ({plan.date_order_reason})")
    out.print(f"  person id: {plan.person_id or '- (each row is its own person)'}; "
              f"period column: {plan.period_column or '-'}")
    proposed = {n: v for n, v in result.config.variables.items() if v.classification_reason}
    out.print(f"  {len(result.config.variables)} attribute variables (classification "
              "'confidential' unless proposed below; the steward decides in node.toml)")
    for name, var in proposed.items():
        out.print(f"  {name}: {var.classification} — {var.classification_reason}")
    for column, reason in plan.override.items():
        out.print(f"  steward override recorded in node.toml and the audit log: {column} "
                  f"({reason})")
    for warning in plan.warnings:
        out.print(f"warning: {warning}")
    if remap:
        out.print(f"next: review {result.mapping_file} and {result.path}, then "
                  f"`fedlink node ingest --dir {node_dir}` (the store holds the old mapping)")
    else:
        out.print(f"next: review {result.mapping_file} and {result.path}, then "
                  f"`fedlink node secret import FILE --dir {node_dir}`")
