"""``fedlink review …``: governance members list, approve, deny or send back requests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

#: As hub.domain.approval.PUBLIC_REASON_MAX (not imported: the CLI loads no hub modules
#: to start).
PUBLIC_REASON_MAX = 1000

review_app = typer.Typer(name="review", help="Governance review of research requests.",
                         no_args_is_help=True)

RequestId = Annotated[str, typer.Argument(help="The request id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


@review_app.command("list")
def list_(
    hub: HubUrlOption = None,
    token: TokenOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Every state, not only pending.")] = False,
) -> None:
    """Requests awaiting review (submitted or in review)."""
    with hub_options.client(hub, token) as client:
        rows = client.list_requests() if all_ else [
            *client.list_requests("submitted"), *client.list_requests("in_review")]
    for row in rows:
        typer.echo(f"{row['id']}  {row['status']:<18} {', '.join(row['agencies']):<20} "
                   f"{row['title']}")
    if not rows:
        typer.echo("nothing to review")


KeyFileOption = Annotated[Path | None, typer.Option(
    "--key-file", help="Your governance key (`fedlink review keygen`): the decision is "
    "signed over the project's terms so every node can verify it. Required for an approval "
    "once the federation has a governance roster.", show_default=False)]


def _review(request_id: str, decision: str, reason: str, hub: str | None,
            token: Path | None, key_file: Path | None = None, public_reason: str = "") -> None:
    with hub_options.client(hub, token) as client:
        if key_file is not None and decision != "request_changes":
            from fedlink.commands.review_keys import sign_review

            result = sign_review(client, request_id, decision, reason, key_file,
                                 public_reason=public_reason)
        else:
            result = client.review(request_id, decision, reason, public_reason)
    typer.echo(f"request {result['id']} is {result['status']}")
    if result["waiting_for"]:
        typer.echo("  waiting for: " + "; ".join(result["waiting_for"]))


@review_app.command()
def approve(request_id: RequestId, hub: HubUrlOption = None, token: TokenOption = None,
            reason: Annotated[str, typer.Option(help="Optional note.")] = "",
            key_file: KeyFileOption = None) -> None:
    """Approve a request (counts toward the governance quorum)."""
    _review(request_id, "approve", reason, hub, token, key_file)


@review_app.command()
def deny(request_id: RequestId, hub: HubUrlOption = None, token: TokenOption = None,
         reason: Annotated[str, typer.Option(
             help="Why (required; internal: the researcher and the hub's staff see it).")] = "",
         public_reason: Annotated[str, typer.Option(
             "--public-reason", help="The reason written for the public (required; shown "
             f"on the public list, at most {PUBLIC_REASON_MAX} characters).")] = "",
         key_file: KeyFileOption = None) -> None:
    """Deny a request, with an internal reason and a reason for the public."""
    if not reason.strip():
        raise CommandError("a denial needs --reason")
    if not public_reason.strip():
        raise CommandError("a denial needs --public-reason: the reason shown on the public "
                           "list (--reason stays internal)")
    if len(public_reason) > PUBLIC_REASON_MAX:
        raise CommandError(f"--public-reason is longer than {PUBLIC_REASON_MAX} characters")
    _review(request_id, "deny", reason, hub, token, key_file, public_reason)


@review_app.command()
def changes(request_id: RequestId, hub: HubUrlOption = None, token: TokenOption = None,
            reason: Annotated[str, typer.Option(help="What to change (required).")] = "") -> None:
    """Send a request back to the researcher for changes."""
    if not reason.strip():
        raise CommandError("a request for changes needs --reason")
    _review(request_id, "request_changes", reason, hub, token)
