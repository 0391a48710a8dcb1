"""``fedlink hub …``: set up and run the hub, and administer it offline on its database.

``init`` creates the directory, keys, schema and the first admin (token printed once);
``serve`` runs the API; ``user add`` (an invitation: the invitee redeems its one-time code
with ``fedlink user redeem``) and ``agency add`` work directly on the database of the hub in
``--dir`` (an operator on the hub's machine), each change audited as ``operator``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

hub_app = typer.Typer(name="hub", help="The hub: governance, approvals, audit.",
                      no_args_is_help=True)
user_app = typer.Typer(help="Hub users and their roles.", no_args_is_help=True)
agency_app = typer.Typer(help="Agencies and their nodes' enrollment.", no_args_is_help=True)
hub_app.add_typer(user_app, name="user")
hub_app.add_typer(agency_app, name="agency")

DirOption = Annotated[
    Path, typer.Option("--dir", envvar="FEDLINK_HUB_DIR", help="The hub directory.",
                       show_default=False),
]


def register(app: typer.Typer) -> None:
    app.add_typer(hub_app, name="hub")


@hub_app.command()
def init(
    hub_dir: DirOption,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", envvar="FEDLINK_HUB_DATABASE_URL",
        help="PostgreSQL URL (default: SQLite in the directory).")] = None,
    admin_name: Annotated[str, typer.Option(help="Name of the first admin.")] = "admin",
    assembly_dir: Annotated[Path | None, typer.Option(
        "--assembly-dir", help="Also create the assembly role's keys in this separate "
        "directory (else: `fedlink hub assembler init` before enrolling nodes).")] = None,
) -> None:
    """Create the hub directory, keys, database schema and the first admin."""
    from hub.services.setup import init_hub

    result = init_hub(hub_dir, database_url=database_url, admin_name=admin_name)
    typer.echo(f"hub initialised in {result.settings.dir}")
    typer.echo(f"  signing key {result.signing_kid}, HPKE key {result.hpke_kid}")
    if assembly_dir is not None:
        from hub.assembly.keys import create_assembly_keys

        assembly = create_assembly_keys(assembly_dir, hub_dir=hub_dir)
        typer.echo(f"  assembly key {assembly.hpke_kid} and assembly signing key "
                   f"{assembly.signing_kid} in {assembly_dir} "
                   "(for `fedlink hub assembler run` only)")
    typer.echo(f"admin API token (shown once, keep it safe): {result.admin_token}")


@hub_app.command()
def serve(
    hub_dir: DirOption,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    ssl_certfile: Annotated[str | None, typer.Option(
        "--ssl-certfile", help="TLS certificate (PEM), e.g. from `fedlink pki issue`.")] = None,
    ssl_keyfile: Annotated[str | None, typer.Option(
        "--ssl-keyfile", help="TLS private key (PEM, mode 0600).")] = None,
    ca_file: Annotated[str | None, typer.Option(
        "--ca-file", help="CA bundle that verifies the nodes' certificates.")] = None,
    log_level: Annotated[str, typer.Option(
        envvar="FEDLINK_HUB_LOG_LEVEL", help="critical, error, warning, info or debug.")]
    = "info",
) -> None:
    """Run the hub API (OpenAPI at /docs; /health, /ready, /metrics; JSON logs on stderr)."""
    from fedlink.serving import run
    from hub.api.app import create_app
    from hub.api.worker_app import FACTORY as WORKER_FACTORY
    from hub.api.worker_app import serve_environment
    from hub.db.engine import engine_for
    from hub.db.migrate import require_database_file
    from hub.settings import HubSettings

    given = {"host": host, "port": port, "ssl_certfile": ssl_certfile,
             "ssl_keyfile": ssl_keyfile, "ca_file": ca_file}
    settings = HubSettings.load(hub_dir, **{k: v for k, v in given.items() if v is not None})
    settings.require_transport()
    engine = engine_for(settings)  # the pool sized by the settings (docs/operations.md)
    require_database_file(engine)
    app = create_app(settings, engine=engine)  # also checks the schema revision
    served: object = app
    if settings.workers > 1:
        # Each worker process builds its own app and pool (hub.api.worker_app); this
        # process only supervises them.
        engine.dispose()
        os.environ.update(serve_environment(
            hub_dir, {k: v for k, v in given.items() if v is not None}))
        served = WORKER_FACTORY
    run(served, host=settings.host, port=settings.port, what="hub",
        log_level=log_level.lower(), certfile=settings.ssl_certfile,
        keyfile=settings.ssl_keyfile, request_filter="hub.api.observability.RequestIdFilter",
        workers=settings.workers)


@hub_app.command()
def migrate(hub_dir: DirOption) -> None:
    """Bring the hub database to the newest schema revision (after an upgrade)."""
    from hub.db.engine import make_engine
    from hub.db.migrate import (
        current_revision,
        head_revision,
        require_database_file,
        upgrade_to_head,
    )
    from hub.settings import HubSettings

    settings = HubSettings.load(hub_dir)
    engine = make_engine(settings.database_url)
    try:
        require_database_file(engine)
        before = current_revision(engine)
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    head = head_revision()
    typer.echo(f"hub database at revision {head}" + (f" (was {before or 'empty'})"
                                                      if before != head else " (unchanged)"))


@user_app.command("add")
def user_add(
    hub_dir: DirOption,
    role: Annotated[str, typer.Option(
        help="admin, researcher, governance, steward or auditor.", show_default=False)],
    name: Annotated[str, typer.Option(help="The person's name.", show_default=False)],
    agency: Annotated[str | None, typer.Option(help="The steward's agency code.")] = None,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    institution: Annotated[str | None, typer.Option(help="Institution.")] = None,
) -> None:
    """Invite a user: print a one-time invitation code (shown once) for them to redeem with
    `fedlink user redeem`; only they ever see their API token. Governance, steward and
    auditor accounts then wait for the governance quorum's approval."""
    from hub.domain.roles import OPERATOR, PRIVILEGED_ROLES
    from hub.services import invitations
    from hub.services.setup import open_hub

    with open_hub(hub_dir) as ctx, ctx.session_factory() as session:
        issued = invitations.invite(session, ctx, OPERATOR, name=name, role=role, email=email,
                                    agency=agency, institution=institution)
        invitation = issued.invitation
        hours = ctx.settings.invitation_ttl_hours
    bound = f", {invitation.agency_code}" if invitation.agency_code else ""
    typer.echo(f"invitation {invitation.id} ({invitation.role}{bound}) for {invitation.name}"
               + ("; once redeemed, the account waits for the governance quorum's approval"
                  if invitation.role in PRIVILEGED_ROLES else "")
               + (" (not while the hub is in its bootstrap, docs/hub.md)"
                  if invitation.role == "governance" else ""))
    typer.echo(f"invitation code (one use, expires in {hours} h; give it to the person "
               f"only): {issued.code}")


@agency_app.command("add")
def agency_add(
    code: Annotated[str, typer.Argument(help="Agency code, e.g. K12.", show_default=False)],
    hub_dir: DirOption,
    name: Annotated[str, typer.Option(help="Agency name.", show_default=False)],
    url: Annotated[str, typer.Option(help="The agency node's URL.", show_default=False)],
) -> None:
    """Register an agency and print its one-time enrollment token."""
    from hub.domain.roles import OPERATOR
    from hub.services.agencies import add_agency
    from hub.services.setup import open_hub

    with open_hub(hub_dir) as ctx, ctx.session_factory() as session:
        agency, token = add_agency(session, ctx, OPERATOR, code=code, name=name, url=url)
        hours = ctx.settings.enrollment_token_ttl_hours
    typer.echo(f"agency {agency.code} ({agency.name}) added")
    typer.echo(f"enrollment token (one use, expires in {hours} h): {token}")
    typer.echo("on the node: FEDLINK_ENROLLMENT_TOKEN=<token> fedlink node enroll --dir DIR "
               "--hub URL (or --token-file FILE, mode 0600)")


@agency_app.command("update")
def agency_update(
    code: Annotated[str, typer.Argument(help="Agency code.", show_default=False)],
    hub_dir: DirOption,
    name: Annotated[str | None, typer.Option(help="New agency name.")] = None,
    url: Annotated[str | None, typer.Option(help="New URL of the agency node.")] = None,
    reenrol: Annotated[bool, typer.Option(
        "--reenrol", help="Issue a one-time re-enrolment token (the node enrolls a new key "
        "with `fedlink node enroll --rotate-key`; earlier unused tokens stop working).")]
    = False,
) -> None:
    """Change an agency's name or node URL, or issue it a re-enrolment token."""
    from hub.domain.roles import OPERATOR
    from hub.services.agencies import update_agency
    from hub.services.setup import open_hub

    with open_hub(hub_dir) as ctx, ctx.session_factory() as session:
        agency, token = update_agency(session, ctx, OPERATOR, code=code, name=name, url=url,
                                      reenrol=reenrol)
        hours = ctx.settings.enrollment_token_ttl_hours
        typer.echo(f"agency {agency.code} ({agency.name}, {agency.url}) updated")
    if token is not None:
        typer.echo(f"re-enrolment token (one use, expires in {hours} h): {token}")
        typer.echo("on the node: FEDLINK_ENROLLMENT_TOKEN=<token> fedlink node enroll --dir "
                   "DIR --hub URL --rotate-key (or --token-file FILE, mode 0600)")


@hub_app.command()
def expire(hub_dir: DirOption) -> None:
    """Expire every approved project whose term has ended (run it daily)."""
    from hub.domain.roles import OPERATOR
    from hub.services.requests import expire_due
    from hub.services.setup import open_hub

    with open_hub(hub_dir) as ctx, ctx.session_factory() as session:
        expired = expire_due(session, ctx, OPERATOR)
    typer.echo(f"{len(expired)} project(s) expired" + (f": {', '.join(expired)}" if expired
                                                         else ""))


@hub_app.command()
def sweep(hub_dir: DirOption) -> None:
    """Once: expire projects past their term, destroy (crypto-shred) every extract that is
    due — term over, project revoked or closed, extract expired (docs/extracts.md) — and
    start the refresh runs the agreements scheduled (docs/refresh.md)."""
    from hub.domain.roles import OPERATOR
    from hub.services.extract_destruction import sweep as run_sweep
    from hub.services.refresh import upcoming_refreshes
    from hub.services.setup import open_hub

    with open_hub(hub_dir) as ctx:
        done = run_sweep(ctx, OPERATOR)
        upcoming = upcoming_refreshes(ctx)
    typer.echo(f"{len(done['projects_expired'])} project(s) expired, "
               f"{len(done['extracts_destroyed'])} extract(s) destroyed, "
               f"{len(done['extracts_interrupted'])} interrupted build(s) failed, "
               f"{len(done['files_shredded'])} leftover file(s) shredded, "
               f"{len(done['runs_purged'])} run(s) purged of their pid-level links, "
               f"{len(done['refreshes_started'])} scheduled refresh run(s) started")
    for run_id in done["refreshes_started"]:
        typer.echo(f"  refresh started: {run_id} (the hub's worker runs it)")
    for item in upcoming:
        due = item.next_refresh_due.isoformat() if item.next_refresh_due else "-"
        why = f" — {item.note}" if item.note else ""
        typer.echo(f"  next refresh of {item.project_id} ({item.refresh_frequency}): "
                   f"due {due}{why}")
