"""``fedlink publication …``: the public publications register (docs/findings.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

publication_app = typer.Typer(name="publication", help="The publications register: add a "
                              "project's publication, list the register.",
                              no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(publication_app, name="publication")


@publication_app.command()
def add(
    project_id: Annotated[str, typer.Argument(help="The approved project (request) id.")],
    citation: Annotated[str, typer.Option(help="The full citation.", show_default=False)],
    published: Annotated[str, typer.Option(help="Publication date, YYYY-MM-DD.",
                                           show_default=False)],
    url: Annotated[str | None, typer.Option(help="Where to read it.")] = None,
    doi: Annotated[str | None, typer.Option(help="Its DOI (10.NNNN/suffix).")] = None,
    report: Annotated[str | None, typer.Option(help="The released report it "
                                                    "publishes.")] = None,
    hub: HubUrlOption = None, token: TokenOption = None,
) -> None:
    """Register a publication of your project (or, for governance, any project)."""
    try:
        day = dt.date.fromisoformat(published)
    except ValueError:
        raise CommandError(f"--published {published!r}: give a date as YYYY-MM-DD") from None
    fields = {"project_id": project_id, "citation": citation,
              "published_on": day.isoformat(), "url": url, "doi": doi, "report_id": report}
    with hub_options.client(hub, token) as client:
        row = client.add_publication(**{k: v for k, v in fields.items() if v is not None})
    typer.echo(f"publication {row['id']} registered for project {row['project_id']}")


@publication_app.command("list")
def list_(hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """The public register (no token needed)."""
    import os

    from hub.client import HubClient

    if not hub:
        raise CommandError("give the hub's URL with --hub URL or FEDLINK_HUB_URL")
    with HubClient(hub, token=hub_options.api_token(token, required=False),
                   transport=hub_options.transport,
                   ca_file=os.environ.get("FEDLINK_CA_FILE") or None) as client:
        rows = client.publications()
    for row in rows:
        where = f"doi:{row['doi']}" if row.get("doi") else row.get("url") or ""
        typer.echo(f"{row['published_on']}  {row['project_id']:<18} {row['citation']}"
                   f"{'  ' + where if where else ''}")
    if not rows:
        typer.echo("no publications registered")
