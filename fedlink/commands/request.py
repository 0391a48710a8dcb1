"""``fedlink request …``: researchers draft, submit, follow and withdraw requests."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

request_app = typer.Typer(name="request", help="Research requests (data sharing agreements).",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(request_app, name="request")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def load_agreement(path: Path) -> dict[str, Any]:
    """A data sharing agreement from a ``.json`` or ``.toml`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: "
                           f"{exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{path}: the agreement must be an object/table")
    return dict(_jsonable(data))


def _line(request: dict[str, Any]) -> str:
    return (f"{request['id']}  {request['status']:<18} {', '.join(request['agencies']):<20} "
            f"{request['title']}")


@request_app.command()
def new(
    agreement: Annotated[Path, typer.Argument(help="JSON or TOML file of the DSA fields.")],
    hub: HubUrlOption = None,
    token: TokenOption = None,
    submit: Annotated[bool, typer.Option(help="Submit it right away.")] = False,
) -> None:
    """Draft a request from a data sharing agreement file (and optionally submit it)."""
    with hub_options.client(hub, token) as client:
        created = client.create_request(load_agreement(agreement))
        if submit:
            created = client.submit_request(created["id"])
    typer.echo(f"request {created['id']} is {created['status']}")


@request_app.command()
def submit(
    request_id: Annotated[str, typer.Argument(help="The request id.")],
    hub: HubUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Submit a draft (or a request edited after changes were requested)."""
    with hub_options.client(hub, token) as client:
        result = client.submit_request(request_id)
    typer.echo(f"request {result['id']} is {result['status']}")


@request_app.command()
def status(
    request_id: Annotated[str, typer.Argument(help="The request id.")],
    hub: HubUrlOption = None,
    token: TokenOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole request.")] = False,
) -> None:
    """Where a request stands: status, decisions, what it still waits for."""
    with hub_options.client(hub, token) as client:
        result = client.get_request(request_id)
    if as_json:
        typer.echo(hub_options.dumps(result))
        return
    typer.echo(_line(result))
    for decision in result["agency_decisions"]:
        typer.echo(f"  agency {decision['agency']}: {decision['decision']} "
                   f"(round {decision['round']}) {decision['reason']}".rstrip())
    for review in result["reviews"]:
        typer.echo(f"  governance: {review['decision']} (round {review['round']}) "
                   f"{review['reason']}".rstrip())
    if result["waiting_for"]:
        typer.echo("  waiting for: " + "; ".join(result["waiting_for"]))
    if result["decision_reason"]:
        typer.echo(f"  decision: {result['decision_reason']}")


@request_app.command("list")
def list_(
    hub: HubUrlOption = None,
    token: TokenOption = None,
    status: Annotated[str | None, typer.Option(help="Only requests in this state.")] = None,
) -> None:
    """The requests you may see (yours, as a researcher)."""
    with hub_options.client(hub, token) as client:
        rows = client.list_requests(status)
    for row in rows:
        typer.echo(_line(row))
    if not rows:
        typer.echo("no requests")


@request_app.command()
def withdraw(
    request_id: Annotated[str, typer.Argument(help="The request id.")],
    hub: HubUrlOption = None,
    token: TokenOption = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Withdraw a request before it is approved."""
    with hub_options.client(hub, token) as client:
        result = client.withdraw_request(request_id, reason)
    typer.echo(f"request {result['id']} is {result['status']}")
