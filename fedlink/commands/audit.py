"""``fedlink audit …``: auditors check the hash-chained logs of the hub and of each node.

``verify --node-dir DIR`` walks a node's chain in its store. ``verify --dir DIR`` (a hub
directory, offline) and ``verify --hub URL`` (a running hub, auditor token) call into
``hub.services.audit_verify`` — contract for the hub side: ``verify_offline(hub_dir: Path)
-> str`` and ``verify_online(hub_url: str, *, token, hub_key) -> str`` return a one-line
summary and raise a ``hub.errors.HubError`` naming the first broken event. ``--hub``
fetches the events and checkpoints and verifies them here, not trusting the hub's verdict.

Both hub checks also verify the transparency log (checkpoints, consistency proofs, witness
co-signatures: docs/hub.md) and print which witness co-signed which sizes; ``--witness-keys
DIR`` pins the witnesses' keys, ``--ask-nodes`` compares the hub's log with what each node
says it co-signed. ``--node-dir DIR`` with ``--hub URL`` or ``--dir HUBDIR`` checks the
node's log against the signed node checkpoints the hub holds. ``checkpoint`` has the hub
sign a checkpoint and push it to the witnesses now.

``search`` and ``export`` query the hub's log through its API (auditor token). Time
bounds are half-open, as in the API: ``--since`` inclusive, ``--until`` exclusive (an ISO
time or a UTC day, meaning its midnight); ``--through DAY`` is inclusive of the whole UTC
day, like the audit page's "Through" field, and is sent as ``until`` = the next midnight.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption
from fedlink.progress import progress_bar

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
    witness_keys: Annotated[Path | None, typer.Option(
        "--witness-keys", help="A directory of <AGENCY>.pem witness (node) public keys "
        "pinned out of band; default: the hub's agency directory.")] = None,
    ask_nodes: Annotated[bool, typer.Option(
        "--ask-nodes", help="Also ask every node for the checkpoints it co-signed.")] = False,
) -> None:
    """Check a hash chain end to end, and the transparency log's checkpoints and witness
    co-signatures; exits non-zero naming the first broken event. ``--node-dir DIR --hub
    URL`` checks the node's log against the signed node checkpoints the hub holds."""
    chosen = [o for o in (node_dir, hub_dir, hub_url) if o is not None]
    if len(chosen) != 1 and not (len(chosen) == 2 and node_dir):
        raise CommandError("give exactly one of --node-dir DIR, --dir DIR or --hub URL "
                           "(or --node-dir DIR with the hub's --dir DIR or --hub URL)")
    if node_dir is not None:
        held = None
        if hub_url is not None:
            with hub_options.client(hub_url, token) as client:
                held = (client.tlog_node_checkpoints(), client.agencies())
        elif hub_dir is not None:
            held = _hub_verifier().held_node_checkpoints(hub_dir)
        typer.echo(_verify_node(node_dir, held))
    elif hub_dir is not None:
        with progress_bar("audit verify", unit="events verified") as report:
            summary = _hub_verifier().verify_offline(
                hub_dir, witness_keys=witness_keys, ask_nodes=ask_nodes,
                transport=hub_options.transport, progress=report)
        typer.echo(summary)
    elif hub_url is not None:
        api_token = hub_options.api_token(token, required=False)
        if not api_token:
            raise CommandError("verifying a running hub needs an auditor token "
                               "(FEDLINK_TOKEN or --token-file FILE)")
        with progress_bar("audit verify", unit="events fetched and verified") as report:
            summary = _hub_verifier().verify_online(
                hub_url, token=api_token, hub_key=hub_key, transport=hub_options.transport,
                witness_keys=witness_keys, ask_nodes=ask_nodes, progress=report)
        typer.echo(summary)


@audit_app.command()
def checkpoint(hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Sign a transparency-log checkpoint now and push it to every witness node (auditor,
    admin); the hub also does this on its own every witness_push_seconds."""
    with hub_options.client(hub, token) as client:
        result = client.tlog_checkpoint_now()
    outcomes = ", ".join(f"{agency} {outcome}"
                         for agency, outcome in sorted(result["witnesses"].items()))
    typer.echo(f"checkpoint of size {result['checkpoint']['size']} signed; witnesses: "
               f"{outcomes or 'none enrolled'}")


@audit_app.command("witness-key")
def witness_key(
    node_dir: Annotated[Path, typer.Option("--node-dir", help="A node directory.",
                                           show_default=False)],
    out: Annotated[Path | None, typer.Option(help="Write the PEM here (else stdout).")] = None,
) -> None:
    """Print a node's public witness key (PEM) for the agency to hand to auditors, who pin
    it as <AGENCY>.pem for `fedlink audit verify --witness-keys DIR`."""
    from agency_node.keys import load_signing_key
    from agency_node.settings import NodeSettings
    from protocol.keyfiles import public_key_to_pem

    settings = NodeSettings.load(node_dir)
    pem = public_key_to_pem(load_signing_key(settings.dir).public_key())
    if out is None:
        typer.echo(pem.decode(), nl=False)
    else:
        out.write_bytes(pem)
        typer.echo(f"wrote {out} (pin it as {settings.agency}.pem)")


def _verify_node(node_dir: Path, held: tuple[list[Any], list[Any]] | None = None) -> str:
    """The node's chain, its own signed checkpoints (weak: it holds them) and, with
    ``held`` (the hub's copies and agency directory), the copies held by the hub, checked
    with the key the node enrolled with."""
    from agency_node.keys import load_signing_key
    from agency_node.runtime import NodeRuntime
    from protocol.keyfiles import ed25519_public_from_b64

    with NodeRuntime.open(node_dir) as runtime:
        agency = runtime.settings.agency
        with progress_bar(f"audit verify {agency}", unit="events verified") as progress:
            report = runtime.audit.verify(progress=progress)
        own = runtime.audit.verify_checkpoints(
            runtime.audit.stored_checkpoints(), agency=agency,
            public_key=load_signing_key(runtime.settings.dir).public_key())
        lines = [f"node {agency}: audit chain intact, {report.events} events, head "
                 f"{report.head}; matches its own {own.checkpoints} signed checkpoints"]
        if held is not None:
            copies, directory = held
            keys = [a["signing_public_key"] for a in directory
                    if a["code"] == agency and a.get("signing_public_key")]
            if not keys:
                raise CommandError(f"the hub's agency directory has no key for {agency}")
            notes = [c["checkpoint"] for c in copies if c["agency"] == agency]
            checked = runtime.audit.verify_checkpoints(
                notes, agency=agency, public_key=ed25519_public_from_b64(keys[0]))
            lines.append(f"node {agency}: matches the {checked.checkpoints} signed node "
                         f"checkpoints the hub holds (up to size {checked.largest})")
    return "\n".join(lines)


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
             action: str | None, since: str | None, until: str | None,
             through: str | None = None) -> dict[str, str | None]:
    if through is not None:
        if until is not None:
            raise CommandError("give --until (exclusive) or --through (inclusive), not both")
        try:
            until = (dt.date.fromisoformat(through) + dt.timedelta(days=1)).isoformat()
        except (ValueError, OverflowError):
            raise CommandError(f"--through takes a UTC day as YYYY-MM-DD, not {through!r}"
                               ) from None
    return {"actor": actor, "project": project, "agency": agency, "action": action,
            "since": since, "until": until}


ActorOption = Annotated[str | None, typer.Option(help="e.g. user:3, node:K12, anonymous.")]
ProjectOption = Annotated[str | None, typer.Option(help="A project (request) id.")]
AgencyOption = Annotated[str | None, typer.Option(help="An agency code.")]
ActionOption = Annotated[str | None, typer.Option(
    help="An action, or a prefix ending in '.' (request.).")]
SinceOption = Annotated[str | None, typer.Option(
    help="From this ISO time or UTC day, inclusive (2026-12-01: from 00:00 UTC).")]
UntilOption = Annotated[str | None, typer.Option(
    help="Before this ISO time or UTC day, exclusive (2026-12-07: up to the end of "
    "2026-12-06 UTC).")]
ThroughOption = Annotated[str | None, typer.Option(
    help="Through this UTC day (YYYY-MM-DD), inclusive, like the audit page's 'Through'; "
    "the same as --until the next day.", show_default=False)]


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
    through: ThroughOption = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 100,
) -> None:
    """Search the hub's audit log (auditor)."""
    filters = _filters(actor, project, agency, action, since, until, through)
    with hub_options.client(hub, token) as client:
        page = client.audit_events(limit=limit, **filters)
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
    through: ThroughOption = None,
) -> None:
    """Export the hub's audit log as CSV or JSON Lines (auditor)."""
    if fmt not in ("csv", "jsonl"):
        raise CommandError("--format must be csv or jsonl")
    filters = _filters(actor, project, agency, action, since, until, through)
    with hub_options.client(hub, token) as client:
        text = client.audit_export(fmt, **filters)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
