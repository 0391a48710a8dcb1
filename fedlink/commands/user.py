"""``fedlink user …``: your own hub account — redeem an invitation, issue yourself a token —
and, for governance members, approving pending privileged accounts and recording people's
training (``fedlink user training record``/``list``, docs/hub.md "Training").

No command takes a token or an invitation code as a flag value (``ps``, shell history):
the code comes from ``FEDLINK_INVITATION`` or ``--code-file FILE``, your token from
``FEDLINK_TOKEN`` or ``--token-file FILE`` (files mode 0600). A new token is printed, or
written to a new 0600 file with ``--token-out FILE``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption
from fedlink.secretfile import resolve_secret, write_secret_file

user_app = typer.Typer(name="user", help="Your hub account: redeem an invitation, tokens, "
                       "approving accounts (governance).", no_args_is_help=True)

TokenOutOption = Annotated[Path | None, typer.Option(
    "--token-out", help="Write the new token to this new file (mode 0600) instead of "
    "printing it.", show_default=False)]


training_app = typer.Typer(name="training", help="Safe people: training records (governance "
                           "records them; everyone reads their own).", no_args_is_help=True)
user_app.add_typer(training_app, name="training")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


def _hand_over(token: str, expires_at: str, token_out: Path | None) -> None:
    if token_out is not None:
        write_secret_file(token_out, token)
        typer.echo(f"API token written to {token_out} (0600); expires {expires_at[:10]}; "
                   f"use it with --token-file {token_out}")
    else:
        typer.echo(f"API token (shown once, keep it safe; expires {expires_at[:10]}): {token}")


@user_app.command()
def redeem(
    hub: HubUrlOption = None,
    code_file: Annotated[Path | None, typer.Option(
        "--code-file", help="File (mode 0600) holding your invitation code; or set "
        "FEDLINK_INVITATION.", show_default=False)] = None,
    label: Annotated[str, typer.Option(help="A label for the token, e.g. laptop.")] = "",
    token_out: TokenOutOption = None,
) -> None:
    """Redeem your one-time invitation: your account and your first API token."""
    from hub.client import HubClient

    code = resolve_secret(code_file, env="FEDLINK_INVITATION", what="invitation code")
    if not code:
        raise CommandError("give your invitation code in FEDLINK_INVITATION or a 0600 file "
                           "with --code-file FILE")
    if not hub:
        raise CommandError("give the hub's URL with --hub URL or FEDLINK_HUB_URL")
    if token_out is not None and token_out.expanduser().exists():
        raise CommandError(f"{token_out} already exists; choose a new file")
    with HubClient(hub, transport=hub_options.transport,
                   ca_file=os.environ.get("FEDLINK_CA_FILE") or None) as client:
        result = client.redeem_invitation(code, label=label)
    typer.echo(f"user {result['id']} ({result['role']}) is {result['status']}"
               + (": it becomes usable once the governance quorum approves it"
                  if result["status"] == "pending" else ""))
    _hand_over(result["token"], result["token_expires_at"], token_out)


@user_app.command()
def token(
    hub: HubUrlOption = None,
    token_file: TokenOption = None,
    label: Annotated[str, typer.Option(help="A label for the new token.")] = "",
    ttl_days: Annotated[int | None, typer.Option(help="Days until it expires.")] = None,
    token_out: TokenOutOption = None,
) -> None:
    """Issue yourself a new API token (rotation); revoke the old one afterwards with
    `fedlink user revoke ID` (`fedlink user tokens` lists yours)."""
    if token_out is not None and token_out.expanduser().exists():
        raise CommandError(f"{token_out} already exists; choose a new file")
    with hub_options.client(hub, token_file) as client:
        result = client.issue_token(label=label, ttl_days=ttl_days)
    _hand_over(result["token"], result["expires_at"], token_out)


@user_app.command()
def tokens(hub: HubUrlOption = None, token_file: TokenOption = None) -> None:
    """Your own tokens: id, label, expiry, revoked or not (never their text)."""
    with hub_options.client(hub, token_file) as client:
        rows = client.my_tokens()
    for row in rows:
        state = f"revoked {row['revoked_at'][:10]}" if row["revoked_at"] else "valid"
        typer.echo(f"{row['id']}\t{row['label'] or '-'}\texpires {row['expires_at'][:10]}"
                   f"\t{state}")


@user_app.command()
def revoke(
    token_id: Annotated[int, typer.Argument(help="The id of one of your own tokens.",
                                            show_default=False)],
    hub: HubUrlOption = None,
    token_file: TokenOption = None,
) -> None:
    """Revoke one of your own tokens (e.g. the old one after `fedlink user token`)."""
    with hub_options.client(hub, token_file) as client:
        client.revoke_my_token(token_id)
    typer.echo(f"token {token_id} revoked")


@user_app.command("declare-conflict")
def declare_conflict(
    request_id: Annotated[str, typer.Argument(help="The request.", show_default=False)],
    conflicted: Annotated[bool, typer.Option(
        "--conflicted/--not-conflicted", help="Recuse yourself, or confirm you have no "
        "conflict (a personnel entry naming you is not you / no conflict).",
        show_default=False)],
    reason: Annotated[str, typer.Option(help="Why (required with --not-conflicted).")] = "",
    hub: HubUrlOption = None,
    token_file: TokenOption = None,
) -> None:
    """Declare your own conflict of interest on a request (governance; docs/hub.md)."""
    with hub_options.client(hub, token_file) as client:
        result = client.declare_conflict(request_id, conflicted=conflicted, reason=reason)
    typer.echo(f"request {request_id}: you are "
               + ("recused" if result["conflicted"] else "declared free of conflict")
               + (" (the personnel list names you)" if result["personnel_listed"] else ""))


@user_app.command()
def pending(hub: HubUrlOption = None, token_file: TokenOption = None) -> None:
    """Privileged accounts waiting for the governance quorum (governance)."""
    with hub_options.client(hub, token_file) as client:
        rows = client.pending_accounts()
    for row in rows:
        bound = f", {row['agency']}" if row["agency"] else ""
        typer.echo(f"{row['id']}\t{row['role']}{bound}\t{row['name']}\t{row['email'] or '-'}"
                   f"\tapprovals {len(row['approvals'])}/{row['quorum']}")
    if not rows:
        typer.echo("no account is waiting for approval")


@user_app.command()
def approve(
    user_id: Annotated[int, typer.Argument(help="The pending account's id.",
                                           show_default=False)],
    hub: HubUrlOption = None,
    token_file: TokenOption = None,
) -> None:
    """Approve a pending governance, steward or auditor account (governance)."""
    with hub_options.client(hub, token_file) as client:
        result = client.approve_account(user_id)
    typer.echo(f"user {result['id']} ({result['role']}) is {result['status']}: "
               f"{len(result['approvals'])} of {result['quorum']} approvals")


def _iso_date(value: str, option: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise CommandError(f"{option} takes a date as YYYY-MM-DD, not {value!r}") from None


@training_app.command("record")
def training_record(
    user_id: Annotated[int, typer.Argument(metavar="USER", help="The person's user id.",
                                           show_default=False)],
    training: Annotated[str, typer.Option(help="The training's name, e.g. data-privacy.",
                                          show_default=False)],
    completed: Annotated[str, typer.Option(help="Completion date, YYYY-MM-DD.",
                                           show_default=False)],
    expires: Annotated[str, typer.Option(help="Last day it counts, YYYY-MM-DD (inclusive).",
                                         show_default=False)],
    hub: HubUrlOption = None,
    token_file: TokenOption = None,
) -> None:
    """Record a person's completion of a training (governance; never your own)."""
    completed_on = _iso_date(completed, "--completed")
    expires_on = _iso_date(expires, "--expires")
    with hub_options.client(hub, token_file) as client:
        row = client.record_training(user_id, training=training, completed_on=completed_on,
                                     expires_on=expires_on)
    typer.echo(f"user {row['user_id']}: {row['training']} completed {row['completed_on']}, "
               f"expires {row['expires_on']}" + ("" if row["current"] else " (not current)"))


@training_app.command("list")
def training_list(
    user_id: Annotated[int, typer.Argument(metavar="USER", help="The person's user id.",
                                           show_default=False)],
    hub: HubUrlOption = None,
    token_file: TokenOption = None,
) -> None:
    """A person's training records, latest expiry first (your own; governance, admins and
    auditors anyone's)."""
    with hub_options.client(hub, token_file) as client:
        rows = client.training(user_id)
    for row in rows:
        state = "current" if row["current"] else "lapsed"
        typer.echo(f"{row['training']}\tcompleted {row['completed_on']}\texpires "
                   f"{row['expires_on']}\t{state}\trecorded by {row['recorded_by']}")
    if not rows:
        typer.echo(f"no training recorded for user {user_id}")
