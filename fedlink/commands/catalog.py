"""``fedlink catalog``: what data each agency offers — variables, descriptions, years,
classification — read from the hub (``GET /v1/catalog``, any signed-in user), as
researchers see it before they write a data sharing agreement (docs/client.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.hub_options import HubUrlOption, TokenOption


def _years(years: list[int]) -> str:
    return f"{min(years)}-{max(years)}" if years else "-"


def _line(row: dict[str, Any]) -> str:
    return (f"{row['agency']:<8} {row['variable']:<24} {_years(row.get('years') or []):<10} "
            f"{row.get('classification') or '':<13} {row.get('description') or ''}")


def catalog(
    hub: HubUrlOption = None, token: TokenOption = None,
    agency: Annotated[str | None, typer.Option(help="One agency only.",
                                               show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The catalog as JSON.")] = False,
) -> None:
    """What data each agency offers: variables, descriptions, years, classification."""
    with hub_options.client(hub, token) as client:
        rows = client.catalog(agency)
    if as_json:
        typer.echo(hub_options.dumps(rows))
        return
    for row in rows:
        typer.echo(_line(row))
    if not rows:
        typer.echo("the catalog is empty" if agency is None
                   else f"agency {agency} offers no variables (or is not enrolled)")


def register(app: typer.Typer) -> None:
    """Add ``catalog`` to the ``fedlink`` command."""
    app.command(name="catalog")(catalog)
