"""``fedlink output protect``: a table of counts back from the hub with primary and
complementary suppression and rounding applied per the project's policy, ready for the
airlock (docs/safe-outputs.md).

The table is either a CSV of counts (``--csv``) or built here, on the researcher's machine,
from the decrypted linked extract: ``--table`` names one or more of the extract's tables
(``tables/agency_<CODE>.parquet`` or ``.csv``; several are joined on ``person_id``) and
``--rows`` / ``--columns`` the variables to group by. Each cell counts people (distinct
``person_id``; rows when the table has no ``person_id``). Only the counts are sent to the
hub, never a record. ``--out`` writes the protected CSV; ``--submit`` sends it to the
airlock straight away (``fedlink output submit``'s service, kind ``frequency``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.commands.output import output_app, read_csv_file, show_prepared
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

MISSING = "(missing)"
PERSON = "person_id"
MARK = "*"


def register(_app: typer.Typer) -> None:
    """The command is attached to ``fedlink output`` at import (``output_app``)."""


def _read_table(path: Path, wanted: list[str]) -> Any:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if not path.is_file():
        raise CommandError(f"{path} does not exist")
    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        elif path.suffix == ".csv":
            table = pacsv.read_csv(path)
        else:
            raise CommandError(f"{path}: --table takes the extract's .parquet or .csv tables")
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise CommandError(f"{path} is not a readable table ({type(exc).__name__})") from None
    keep = [c for c in [PERSON, *wanted] if c in table.column_names]
    return table.select(keep)


def group_counts(paths: list[Path], rows: str, columns: str | None) -> str:
    """The CSV table of counts by ``rows`` (and ``columns``) over the extract's tables,
    joined on ``person_id``; counts people when there is a ``person_id``."""
    import pyarrow.compute as pc

    wanted = [rows] if columns is None else [rows, columns]
    tables = [_read_table(path, wanted) for path in paths]
    joined = tables[0]
    for other in tables[1:]:
        if PERSON not in joined.column_names or PERSON not in other.column_names:
            raise CommandError(f"several --table files are joined on {PERSON}; one has none")
        extra = [c for c in other.column_names if c not in joined.column_names]
        joined = joined.join(other.select([PERSON, *extra]), keys=PERSON, join_type="inner")
    for name in wanted:
        if name not in joined.column_names:
            raise CommandError(f"no --table has a column {name!r}")
        as_text = pc.fill_null(pc.cast(joined[name], "string"), MISSING)
        joined = joined.set_column(joined.column_names.index(name), name, as_text)
    if PERSON in joined.column_names:
        grouped = joined.group_by(wanted).aggregate([(PERSON, "count_distinct")])
        counted = f"{PERSON}_count_distinct"
    else:
        grouped = joined.group_by(wanted).aggregate([([], "count_all")])
        counted = "count_all"
    cells = {tuple(str(r[n]) for n in wanted): int(r[counted]) for r in grouped.to_pylist()}
    return _csv(cells, rows, columns)


def _order(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _csv(cells: dict[tuple[str, ...], int], rows: str, columns: str | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    row_labels = sorted({key[0] for key in cells}, key=_order)
    if not row_labels:
        raise CommandError("the tables have no rows: nothing to count")
    if columns is None:
        writer.writerow([rows, "n"])
        writer.writerows([label, cells[(label,)]] for label in row_labels)
        return out.getvalue()
    column_labels = sorted({key[1] for key in cells}, key=_order)
    writer.writerow([rows, *column_labels])
    for label in row_labels:
        writer.writerow([label, *(cells.get((label, c), 0) for c in column_labels)])
    return out.getvalue()


def render(view: dict[str, Any]) -> list[str]:
    """The protected table as aligned text, suppressed cells ``*``, then each reason."""
    header = [view["label_header"], *view["column_labels"]]
    body = [[label, *(MARK if c["value"] is None else str(c["value"]) for c in row)]
            for label, row in zip(view["row_labels"], view["cells"], strict=True)]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w)
                       for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
             for r in [header, *body]]
    rules = view["rules"]
    lines.append(f"rules: suppress counts below {rules['min_cell']}"
                 f"{', and zeros' if rules['suppress_zeros'] else ''}; "
                 + (f"rounded to multiples of {rules['rounding_base']}"
                    if rules["rounding_base"] > 1 else "not rounded"))
    lines.append(f"suppressed: {view['primary']} primary, {view['complementary']} "
                 "complementary")
    for label, row in zip(view["row_labels"], view["cells"], strict=True):
        for column, cell in zip(view["column_labels"], row, strict=True):
            if cell["reason"]:
                lines.append(f"  ({label}, {column}) {cell['reason']}")
    lines.append("airlock checks: " + ("pass" if view["airlock_passed"] else "fail: " + "; ".join(
        f"{f['check']} at {f['where']}" for f in view["airlock_findings"])))
    return lines


def _input(csv_file: Path | None, tables: list[Path], rows: str | None,
           columns: str | None) -> tuple[str, dict[str, Any] | None]:
    if (csv_file is None) == (not tables):
        raise CommandError("give either --csv (a table of counts) or --table with --rows "
                           "(a group-by over your extract)")
    if csv_file is not None:
        if rows or columns:
            raise CommandError("--rows and --columns go with --table, not --csv")
        return read_csv_file(csv_file, too_large=": send a table of counts"), None
    if not rows:
        raise CommandError("--table needs --rows (and optionally --columns)")
    return group_counts(tables, rows, columns), {"rows": rows, "columns": columns}


@output_app.command()
def protect(
    project_id: Annotated[str, typer.Argument(help="The ready project the table comes from.")],
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="A table of counts (CSV: labels, then counts; totals optional).",
        show_default=False)] = None,
    table: Annotated[list[Path] | None, typer.Option(
        "--table", help="An extract table (.parquet or .csv) to count; repeat to join "
        "several on person_id.", show_default=False)] = None,
    rows: Annotated[str | None, typer.Option(help="With --table: the variable of the "
                                             "rows.", show_default=False)] = None,
    columns: Annotated[str | None, typer.Option(help="With --table: the variable of the "
                                                "columns (none: a 1-D table).",
                                                show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(help="Write the protected table (CSV) here.",
                                             show_default=False)] = None,
    submit: Annotated[bool, typer.Option("--submit", help="Submit the protected table to "
                                         "the airlock (needs --name).")] = False,
    name: Annotated[str | None, typer.Option(help="With --submit: the table's name "
                                             "(published once released).",
                                             show_default=False)] = None,
    description: Annotated[str, typer.Option(help="With --submit: what the table "
                                             "shows.")] = "",
    json_: Annotated[bool, typer.Option("--json", help="The hub's whole answer as "
                                        "JSON.")] = False,
    hub: HubUrlOption = None, token: TokenOption = None,
) -> None:
    """Suppress and round a table of counts per the project's policy (personnel)."""
    if submit and not name:
        raise CommandError("--submit needs --name for the airlock")
    text, group_by = _input(csv_file, table or [], rows, columns)
    with hub_options.client(hub, token) as client:
        view = client.protect_table(project_id, text, group_by)
        output = (client.submit_output(project_id=project_id, name=name, kind="frequency",
                                       csv=view["csv"], description=description)
                  if submit else None)
    show_prepared(view, output, out=out, json_=json_, render=render)
