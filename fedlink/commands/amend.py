"""``fedlink request amend|extend|renew|versions|diff|withdraw-amendment``: the life of an
approved agreement (docs/amendments.md). The researcher proposes a new version (the same
project id); only the agencies whose terms change and the governance quorum decide it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.commands.request import load_agreement, request_app
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

RequestId = Annotated[str, typer.Argument(help="The project (request) id.")]
ReasonOption = Annotated[str, typer.Option(help="Why the agreement changes (required; shown "
                                           "to the reviewers and audited).")]


def register(_app: typer.Typer) -> None:
    """The commands are attached to ``fedlink request`` at import (``request_app``)."""


def _in_force(client: Any, request_id: str) -> dict[str, Any]:
    """The agreement in force, as the starting point of an extension or renewal."""
    number = int(client.agreement_versions(request_id)["in_force"])
    if number < 1:
        raise CommandError(f"request {request_id} has no agreement in force (never approved)")
    return dict(client.agreement_version(request_id, number)["agreement"])


def _term_end(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise CommandError(f"--term-end {value!r} is not a date (YYYY-MM-DD)") from None


def _proposed(client: Any, request_id: str, agreement: dict[str, Any], *, kind: str,
              reason: str) -> None:
    if not reason.strip():
        raise CommandError("give the reason for the change with --reason")
    row = client.propose_amendment(request_id, agreement, kind=kind, reason=reason)
    listing = client.agreement_versions(request_id)
    asked = ", ".join(listing["agencies_asked"]) or "none"
    typer.echo(f"request {request_id}: {kind} proposed as version {row['version']}, under "
               f"review (agencies asked again: {asked}; and the governance quorum)")


@request_app.command()
def amend(
    request_id: RequestId,
    agreement: Annotated[Path, typer.Argument(help="JSON or TOML file of the complete new "
                                              "agreement (start from `fedlink request "
                                              "versions ID --show N`).")],
    reason: ReasonOption = "",
    hub: HubUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Propose an amendment of an approved project's agreement (the term stays)."""
    with hub_options.client(hub, token) as client:
        _proposed(client, request_id, load_agreement(agreement), kind="amendment",
                  reason=reason)


@request_app.command()
def extend(
    request_id: RequestId,
    term_end: Annotated[str, typer.Option("--term-end", help="The new last day "
                                          "(YYYY-MM-DD), later than the one in force.")],
    reason: ReasonOption = "",
    hub: HubUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Propose an extension: the agreement in force with a later term_end, nothing else."""
    with hub_options.client(hub, token) as client:
        document = {**_in_force(client, request_id), "term_end": _term_end(term_end)}
        _proposed(client, request_id, document, kind="extension", reason=reason)


@request_app.command()
def renew(
    request_id: RequestId,
    term_end: Annotated[str, typer.Option("--term-end", help="The renewed term's last day "
                                          "(YYYY-MM-DD), later than the one in force.")],
    reason: ReasonOption = "",
    agreement: Annotated[Path | None, typer.Option(help="The renewed agreement, if more "
                                                   "than the term changes.")] = None,
    hub: HubUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Propose a renewal of a renewable agreement, before its term ends."""
    with hub_options.client(hub, token) as client:
        base = load_agreement(agreement) if agreement else _in_force(client, request_id)
        _proposed(client, request_id, {**base, "term_end": _term_end(term_end)},
                  kind="renewal", reason=reason)


@request_app.command("withdraw-amendment")
def withdraw_amendment(
    request_id: RequestId,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
    hub: HubUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Withdraw the amendment, extension or renewal under review (the version in force
    stays)."""
    with hub_options.client(hub, token) as client:
        row = client.withdraw_amendment(request_id, reason)
    typer.echo(f"request {request_id}: version {row['version']} {row['status']}")


@request_app.command()
def versions(
    request_id: RequestId,
    show: Annotated[int | None, typer.Option(help="Print version N's agreement (JSON).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the listing as JSON.")]
    = False,
    hub: HubUrlOption = None,
    token: TokenOption = None,
) -> None:
    """The project's agreement versions: kind, status, term, why."""
    with hub_options.client(hub, token) as client:
        if show is not None:
            typer.echo(hub_options.dumps(client.agreement_version(request_id, show)
                                         ["agreement"]))
            return
        listing = client.agreement_versions(request_id)
    if as_json:
        typer.echo(hub_options.dumps(listing))
        return
    typer.echo(f"request {request_id}: {listing['status']}, version {listing['in_force']} "
               "in force")
    for row in listing["versions"]:
        typer.echo(f"  v{row['version']}  {row['kind']:<10} {row['status']:<11} "
                   f"{row['term_start']}..{row['term_end']}  {row['reason']}".rstrip())
    if listing["agencies_asked"]:
        typer.echo("  agencies asked to re-approve: " + ", ".join(listing["agencies_asked"]))


@request_app.command()
def diff(
    request_id: RequestId,
    version: Annotated[int, typer.Argument(help="The version whose changes to show.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the changes as JSON.")]
    = False,
    hub: HubUrlOption = None,
    token: TokenOption = None,
) -> None:
    """What a version changed, field by field, against the version in force before it."""
    with hub_options.client(hub, token) as client:
        result = client.agreement_diff(request_id, version)
    if as_json:
        typer.echo(hub_options.dumps(result))
        return
    against = result["against"]
    typer.echo(f"request {request_id}: version {version} against "
               f"{'version ' + str(against) if against else 'nothing (the original)'}")
    for change in result["changes"]:
        typer.echo(f"  {change['path']}: {change['before']!r} -> {change['after']!r}")
    if not result["changes"]:
        typer.echo("  no changes")
