"""``fedlink incident …``: incident response (docs/incident-response.md).

Governance records an incident (``open``), contains its project in one step (``contain``:
with ``--key-file`` the member signs the revocation every node then enforces), reads who saw
or downloaded what (``report``), notifies the stewards and governance (``notify``) and
``close``\\ s it. Each agency's steward hands in its node's log about the project
(``node-log --node-dir``), read on the node's own machine: the hub cannot reach node logs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

incident_app = typer.Typer(name="incident", help="Incident response: record, contain, access "
                           "report, notify, close.", no_args_is_help=True)

IncidentArg = Annotated[str, typer.Argument(help="The incident id (inc-…).",
                                            show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident")


def _data(values: list[str]) -> list[dict[str, Any]]:
    involved = []
    for value in values:
        agency, sep, names = value.partition(":")
        if not agency.strip():
            raise CommandError(f"--data {value!r}: give AGENCY or AGENCY:var1,var2")
        involved.append({"agency": agency.strip(),
                         "variables": [n.strip() for n in names.split(",") if n.strip()]
                         if sep else []})
    return involved


@incident_app.command("open")
def open_(
    title: Annotated[str, typer.Option(help="A short name.", show_default=False)],
    description: Annotated[str, typer.Option(help="What happened.", show_default=False)],
    severity: Annotated[str, typer.Option(help="low, medium, high or critical.",
                                          show_default=False)],
    project: Annotated[str | None, typer.Option(help="The project involved.")] = None,
    found_at: Annotated[str | None, typer.Option(
        help="When it was found (ISO time with zone; default now).")] = None,
    data: Annotated[list[str] | None, typer.Option(
        help="AGENCY:var1,var2 involved; repeatable.")] = None,
    notifiable: Annotated[bool, typer.Option(help="Policy makes it notifiable.")] = False,
    public_summary: Annotated[str, typer.Option(help="What the public page says.")] = "",
    hub: HubUrlOption = None, token: TokenOption = None,
) -> None:
    """Record an incident (governance)."""
    body = {"title": title, "description": description, "severity": severity,
            "project_id": project, "data_involved": _data(data or []),
            "found_at": found_at or dt.datetime.now(dt.UTC).isoformat(),
            "notifiable": notifiable, "public_summary": public_summary}
    with hub_options.client(hub, token) as client:
        incident = client.open_incident(body)
    typer.echo(f"opened {incident['id']} ({incident['severity']}, project "
               f"{incident['project_id'] or 'none'})")


@incident_app.command("list")
def list_(hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Every incident, newest first (governance, auditors)."""
    with hub_options.client(hub, token) as client:
        rows = client.list_incidents()
    for row in rows:
        typer.echo(f"{row['id']}  {row['found_at'][:10]}  {row['severity']:<8} "
                   f"{row['status']:<9} {row['project_id'] or '-':<18} {row['title']}")
    if not rows:
        typer.echo("no incidents")


@incident_app.command()
def show(incident_id: IncidentArg, hub: HubUrlOption = None, token: TokenOption = None,
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """One incident with its timeline and notifications."""
    with hub_options.client(hub, token) as client:
        incident = client.get_incident(incident_id)
    if as_json:
        typer.echo(hub_options.dumps(incident))
        return
    typer.echo(f"{incident['id']}: {incident['title']} [{incident['status']}, "
               f"{incident['severity']}]\n  found {incident['found_at']}, project "
               f"{incident['project_id'] or 'none'}")
    for event in incident["timeline"]:
        typer.echo(f"  {event['ts']}  {event['action']:<24} "
                   f"{event['actor_name'] or event['actor']}")
    for note in incident["notifications"]:
        typer.echo(f"  {note['channel']} {note['target']}: {note['outcome']} {note['error']}")


def _signed_revocation(project_id: str, key_file: Path, reason: str) -> dict[str, Any]:
    from fedlink.governance_keys import load_key_file
    from protocol.governance import Revocation, sign_statement

    body = Revocation(project_id=project_id, reason=reason, revoked_at=dt.datetime.now(dt.UTC))
    signed: dict[str, Any] = json.loads(sign_statement(body, load_key_file(key_file)).to_json())
    return signed


@incident_app.command()
def contain(
    incident_id: IncidentArg,
    key_file: Annotated[Path | None, typer.Option(
        "--key-file", help="Your governance key: signs the revocation the nodes enforce "
        "(required once a roster exists).")] = None,
    reason: Annotated[str, typer.Option(help="The revocation's reason.")] = "",
    keep_users: Annotated[bool, typer.Option(
        "--keep-users", help="Do not suspend the personnel's accounts.")] = False,
    hub: HubUrlOption = None, token: TokenOption = None,
) -> None:
    """Contain the incident's project: revoke it on the hub and every node, destroy its
    extracts, revoke its personnel's tokens and sessions, suspend their accounts."""
    with hub_options.client(hub, token) as client:
        incident = client.get_incident(incident_id)
        revocation = None
        if key_file is not None:
            if not incident["project_id"]:
                raise CommandError(f"incident {incident_id} names no project to contain")
            revocation = _signed_revocation(incident["project_id"], key_file,
                                            reason or f"incident {incident_id}")
        done = client.contain_incident(incident_id, revocation=revocation,
                                       suspend_users=not keep_users)["containment"]
    typer.echo(f"contained {incident_id}: project {done['project_status']} "
               f"(revocation {done['revocation']}); nodes told: "
               f"{', '.join(done['nodes_told']) or 'none'}; not yet: "
               f"{', '.join(done['nodes_not_told']) or 'none'}\n"
               f"  {len(done['tokens_revoked'])} tokens revoked, "
               f"{len(done['sessions_ended'])} sessions ended, "
               f"{len(done['users_suspended'])} accounts suspended, "
               f"{len(done['extracts_destroyed'])} extracts destroyed, "
               f"{len(done['extracts_live'])} still live")


def node_log_events(node_dir: Path, project_id: str) -> tuple[str, list[dict[str, Any]]]:
    """The node's agency and its audit events about ``project_id`` (read locally)."""
    from sqlalchemy import select

    from agency_node.runtime import NodeRuntime
    from agency_node.store.models import AuditEvent

    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.project_id == project_id)
                               .order_by(AuditEvent.seq))
        events = [{"seq": e.seq, "at": e.at, "actor": e.actor, "typ": e.typ,
                   "project_id": e.project_id, "outcome": e.outcome, "reason": e.reason,
                   "hash": e.hash} for e in rows]
        return runtime.settings.agency, events


@incident_app.command("node-log")
def node_log(
    incident_id: IncidentArg,
    project: Annotated[str, typer.Option(help="The incident's project.", show_default=False)],
    node_dir: Annotated[Path, typer.Option("--node-dir", help="The agency node's directory.",
                                           show_default=False)],
    hub: HubUrlOption = None, token: TokenOption = None,
) -> None:
    """Hand in this node's audit events about the project (the agency's steward)."""
    agency, events = node_log_events(node_dir, project)
    with hub_options.client(hub, token) as client:
        added = client.add_node_log(incident_id, agency=agency, events=events)["added"]
    typer.echo(f"{agency}: {len(events)} events about {project}, {added} new")


@incident_app.command()
def report(incident_id: IncidentArg, hub: HubUrlOption = None, token: TokenOption = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Who saw or downloaded what: the hub's log and the node logs handed in."""
    with hub_options.client(hub, token) as client:
        answer = client.access_report(incident_id)
    if as_json:
        typer.echo(hub_options.dumps(answer))
        return
    typer.echo(f"access report of {incident_id} (project {answer['project_id']})")
    for row in answer["by_actor"]:
        typer.echo(f"  {row['actor']:<16} downloads {row['download']}, views {row['view']}, "
                   f"other {row['change']}")
    for event in answer["hub_events"]:
        if event["kind"] != "change":
            typer.echo(f"  hub {event['ts']}  {event['action']:<22} "
                       f"{event['actor_name'] or event['actor']} {event['object_id']} "
                       f"[{event['outcome']}]")
    for event in answer["node_events"]:
        typer.echo(f"  {event['agency']} {event['at']}  {event['typ']:<22} {event['actor']} "
                   f"[{event['outcome']}]")
    missing = "" if answer["node_events"] else " (no node log handed in yet)"
    typer.echo(f"node logs from: {', '.join(answer['agencies_reported']) or 'none'}{missing}")


@incident_app.command()
def notify(incident_id: IncidentArg, hub: HubUrlOption = None,
           token: TokenOption = None) -> None:
    """E-mail the stewards and governance, call the webhook; failures are listed."""
    with hub_options.client(hub, token) as client:
        attempts = client.notify_incident(incident_id)["attempts"]
    for attempt in attempts:
        typer.echo(f"{attempt['channel']} {attempt['target']}: {attempt['outcome']} "
                   f"{attempt['error']}".rstrip())
    if not attempts:
        typer.echo("nothing sent: no SMTP server or webhook is configured")
    if any(a["outcome"] == "failed" for a in attempts):
        raise CommandError("some notifications failed (recorded on the incident)")


@incident_app.command()
def close(incident_id: IncidentArg,
          resolution: Annotated[str, typer.Option(help="How it ended.", show_default=False)],
          hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Close a contained incident."""
    with hub_options.client(hub, token) as client:
        client.close_incident(incident_id, resolution)
    typer.echo(f"closed {incident_id}")
