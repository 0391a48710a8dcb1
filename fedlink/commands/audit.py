"""``fedlink audit …``: auditors check the hash-chained logs of the hub and of each node.

``verify --node-dir DIR`` walks a node's chain in its store. ``verify --dir DIR`` (a hub
directory, offline) and ``verify --hub URL`` (a running hub, auditor token) call into
``hub.services.audit_verify`` — contract for the hub side: ``verify_offline(hub_dir: Path)
-> str`` and ``verify_online(hub_url: str, *, token, hub_key) -> str`` return a one-line
summary and raise a ``hub.errors.HubError`` naming the first broken event. ``--hub``
fetches the events and checkpoints and verifies them here, not trusting the hub's verdict.

``search`` and ``export`` query the hub's log through its API (auditor token).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

audit_app = typer.Typer(
    name="audit", help="Verify and search the audit logs of the hub and the nodes.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command()
def verify(
    node_dir: Annotated[Path | None, typer.Option("--node-dir", help="A node directory.")] = None,
    hub_dir: Annotated[Path | None, typer.Option("--dir", help="A hub directory.")] = None,
    hub_url: Annotated[str | None, typer.Option("--hub", help="A running hub's URL.")] = None,
    token: TokenOption = None,
    hub_key: Annotated[Path | None, typer.Option(
        "--hub-key", help="The hub's signing public key (PEM), pinned out of band.")] = None,
) -> None:
    """Check a hash chain end to end; exits non-zero naming the first broken event."""
    chosen = [o for o in (node_dir, hub_dir, hub_url) if o is not None]
    if len(chosen) != 1:
        raise CommandError("give exactly one of --node-dir DIR, --dir DIR or --hub URL")
    if node_dir is not None:
        typer.echo(_verify_node(node_dir))
    elif hub_dir is not None:
        typer.echo(_hub_verifier().verify_offline(hub_dir))
    elif hub_url is not None:
        if not token:
            raise CommandError("verifying a running hub needs an auditor token "
                               "(--token or FEDLINK_TOKEN)")
        typer.echo(_hub_verifier().verify_online(
            hub_url, token=token, hub_key=hub_key, transport=hub_options.transport))


def _verify_node(node_dir: Path) -> str:
    from agency_node.runtime import NodeRuntime

    with NodeRuntime.open(node_dir) as runtime:
        report = runtime.audit.verify()
        agency = runtime.settings.agency
    return f"node {agency}: audit chain intact, {report.events} events, head {report.head}"


def _hub_verifier() -> ModuleType:
    try:
        return importlib.import_module("hub.services.audit_verify")
    except ModuleNotFoundError as exc:
        if exc.name not in ("hub.services", "hub.services.audit_verify"):
            raise
        raise CommandError(
            "this installation has no hub audit verifier (hub.services.audit_verify)"
        ) from None


def _filters(actor: str | None, project: str | None, agency: str | None,
             action: str | None, since: str | None, until: str | None) -> dict[str, str | None]:
    return {"actor": actor, "project": project, "agency": agency, "action": action,
            "since": since, "until": until}


ActorOption = Annotated[str | None, typer.Option(help="e.g. user:3, node:K12, anonymous.")]
ProjectOption = Annotated[str | None, typer.Option(help="A project (request) id.")]
AgencyOption = Annotated[str | None, typer.Option(help="An agency code.")]
ActionOption = Annotated[str | None, typer.Option(
    help="An action, or a prefix ending in '.' (request.).")]
SinceOption = Annotated[str | None, typer.Option(help="From this ISO time (inclusive).")]
UntilOption = Annotated[str | None, typer.Option(help="Before this ISO time.")]


@audit_app.command()
def search(
    hub: HubUrlOption = None,
    token: TokenOption = None,
    actor: ActorOption = None,
    project: ProjectOption = None,
    agency: AgencyOption = None,
    action: ActionOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 100,
) -> None:
    """Search the hub's audit log (auditor)."""
    with hub_options.client(hub, token) as client:
        page = client.audit_events(limit=limit,
                                   **_filters(actor, project, agency, action, since, until))
    for event in page["events"]:
        where = " ".join(f"{k}={event[k]}" for k in ("project", "agency") if event[k])
        typer.echo(f"{event['seq']:>6} {event['ts']} {event['actor']:<12} {event['action']:<26}"
                   f" {event['outcome']:<10} {where}".rstrip())
    typer.echo(f"{len(page['events'])} of {page['total']} matching events")


@audit_app.command()
def export(
    hub: HubUrlOption = None,
    token: TokenOption = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "jsonl",
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    actor: ActorOption = None,
    project: ProjectOption = None,
    agency: AgencyOption = None,
    action: ActionOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
) -> None:
    """Export the hub's audit log as CSV or JSON Lines (auditor)."""
    if fmt not in ("csv", "jsonl"):
        raise CommandError("--format must be csv or jsonl")
    with hub_options.client(hub, token) as client:
        text = client.audit_export(fmt, **_filters(actor, project, agency, action, since, until))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
