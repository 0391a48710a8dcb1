"""``fedlink agenda …``: the research agenda's priority questions (docs/governance-policy.md).
Governance members add and retire items; everyone signed in lists them; requests link to
active items in their agreement's ``agenda_items``."""

from __future__ import annotations

from typing import Annotated

import typer

from fedlink import hub_options
from fedlink.hub_options import HubUrlOption, TokenOption

agenda_app = typer.Typer(name="agenda", help="The research agenda: priority questions "
                         "requests link to (governance adds and retires them).",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(agenda_app, name="agenda")


def _show(item: dict[str, object]) -> str:
    return f"{item['id']:>4}  {item['status']:<8} {item['question']}"


@agenda_app.command("list")
def list_(hub: HubUrlOption = None, token: TokenOption = None,
          active: Annotated[bool, typer.Option(
              "--active", help="Only items requests may still link to.")] = False) -> None:
    """The agenda's items, oldest first."""
    with hub_options.client(hub, token) as client:
        items = [i for i in client.agenda() if not active or i["status"] == "active"]
    for item in items:
        typer.echo(_show(item))
    if not items:
        typer.echo("the research agenda is empty")


@agenda_app.command()
def add(question: Annotated[str, typer.Argument(help="The priority question.")],
        hub: HubUrlOption = None, token: TokenOption = None,
        description: Annotated[str, typer.Option(
            help="Why it matters (optional).")] = "") -> None:
    """Add a priority question (governance); it is published at once."""
    with hub_options.client(hub, token) as client:
        item = client.add_agenda_item(question, description)
    typer.echo(f"agenda item {item['id']} added: {item['question']}")


@agenda_app.command()
def retire(item_id: Annotated[int, typer.Argument(help="The agenda item's id.", min=1)],
           hub: HubUrlOption = None, token: TokenOption = None,
           reason: Annotated[str, typer.Option(help="Why (optional).")] = "") -> None:
    """Retire a priority question (governance): new requests may no longer link to it."""
    with hub_options.client(hub, token) as client:
        item = client.retire_agenda_item(item_id, reason)
    typer.echo(f"agenda item {item['id']} retired")
