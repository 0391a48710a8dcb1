"""``fedlink node …``: set up, load, profile, enroll, serve and govern an agency node.

Thin: every command parses its options, calls :mod:`agency_node`, and prints. Errors are
:class:`agency_node.errors.NodeError` (one line via :func:`fedlink.cli.main`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from agency_node.errors import ConfigError

if TYPE_CHECKING:
    # The runtime pulls in SQLAlchemy and Alembic, the config pydantic and the protocol's
    # crypto: imported when a command runs, so `fedlink node --help` starts without them.
    import httpx

    from agency_node.hub_client import HubClient
    from agency_node.runtime import NodeRuntime
    from agency_node.services.approvals import Decision, Terms

node_app = typer.Typer(
    name="node", help="An agency node: its records stay home.", no_args_is_help=True
)
secret_app = typer.Typer(help="The federation secret (handed out of band).", no_args_is_help=True)
node_app.add_typer(secret_app, name="secret")

DirOption = Annotated[Path, typer.Option("--dir", help="The node directory.", show_default=False)]
# markup=False: paths, hub-sent terms and store values print as they are, never as markup.
_out = Console(highlight=False, soft_wrap=True, markup=False)
#: Tests point the hub client at a fake hub; None means the real network.
hub_transport: httpx.BaseTransport | None = None


def register(app: typer.Typer) -> None:
    app.add_typer(node_app, name="node")


@node_app.command()
def init(
    agency: Annotated[str, typer.Option(help="Agency code, e.g. K12.", show_default=False)],
    name: Annotated[str, typer.Option(help="Agency name.", show_default=False)],
    node_dir: DirOption,
    source: Annotated[Path | None, typer.Option(help="Source CSV file.")] = None,
    source_url: Annotated[str | None, typer.Option(help="Source SQLAlchemy URL.")] = None,
    table: Annotated[str | None, typer.Option(help="Source table (with --source-url).")] = None,
    max_field_length: Annotated[int, typer.Option(help="Longest usable field.")] = 1000,
    date_order: Annotated[str | None, typer.Option(
        help="MDY or DMY for dates like 03/07/2004 (default: detected from the values, "
        "else MDY).")] = None,
    maps: Annotated[list[str] | None, typer.Option(
        "--map", help="LOCAL=CANONICAL: a column is this identity field, record_id, "
        "person_id (the agency's person id: rows sharing it are one person) or period "
        "(year, school year, term, quarter or date of each row); repeatable.")] = None,
    record_id: Annotated[str | None, typer.Option(
        "--record-id", help="The column holding the agency's unique local id.")] = None,
    year_column: Annotated[str | None, typer.Option(
        "--year-column", help="The column whose year scopes each record ('' = none).")] = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="A reviewed mapping.toml (init writes one into --dir).")] = None,
    offers: Annotated[list[str] | None, typer.Option(
        "--offer", help="COLUMN=REASON: steward override, offer a column flagged as "
        "identifying as a variable anyway (recorded and audited); repeatable.")] = None,
    remap: Annotated[bool, typer.Option(
        "--remap", help="Re-map an existing node in place (keys, store, enrolment and the "
        "steward's variable descriptions kept); ingest again afterwards.")] = False,
) -> None:
    """Create the node directory, its keys, node.toml and mapping.toml: every column mapped
    from its name and its values; identifying columns are never offered as variables."""
    from pydantic import ValidationError

    from agency_node.config import SourceSection
    from fedlink.commands.node_init import build_choices, run_init
    from protocol.signing import describe_validation_error

    if (source is None) == (source_url is None):
        raise ConfigError("give exactly one of --source FILE.csv or --source-url URL --table T")
    if source_url is not None and not table:
        raise ConfigError("--source-url needs --table")
    choices = build_choices(mapping=mapping, maps=maps or [], record_id=record_id,
                            year_column=year_column, date_order=date_order,
                            offers=offers or [])
    try:
        section = SourceSection(
            kind="csv" if source else "sql",
            path=str(source.expanduser().resolve()) if source else "",
            url=source_url or "", table=table or "",
            max_field_length=max_field_length,
            date_order=choices.date_order or "MDY",  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        raise ConfigError(f"bad source option: {describe_validation_error(exc)}") from None
    run_init(node_dir, agency=agency, name=name, section=section, choices=choices,
             remap=remap, out=_out)


@secret_app.command("import")
def secret_import(
    file: Annotated[Path, typer.Argument(help="Secret file: 32 raw bytes, or as hex/base64 text.")],
    node_dir: DirOption,
    replace: Annotated[bool, typer.Option(help="Replace an existing secret.")] = False,
) -> None:
    """Copy the federation secret from FILE into the node (0600). Never printed."""
    from agency_node.keys import SECRET_KEY, import_federation_secret

    with _open(node_dir) as runtime:
        fingerprint = import_federation_secret(runtime.settings.dir, file, replace=replace)
        runtime.audit.append(actor="operator", typ="secret_import", outcome="stored",
                             details={"fingerprint": fingerprint})
        stored = runtime.settings.dir / SECRET_KEY
    _out.print(f"federation secret stored in {stored} (0600); fingerprint {fingerprint} — "
               "compare it with the other agencies")


@node_app.command()
def ingest(
    node_dir: DirOption,
    strict: Annotated[bool, typer.Option(help="Fail, loading nothing, on any bad row.")] = False,
    max_quarantine_pct: Annotated[float | None, typer.Option(
        min=0, max=100, show_default=False,
        help="Exit non-zero above this % of quarantined lines (default: node.toml, 10).",
    )] = None,
) -> None:
    """Load the source into the node store; bad rows are quarantined with their reason.

    Exits non-zero when nothing loads or the quarantined share is over the limit."""
    from agency_node.ingest.loader import run_ingest
    from agency_node.profile import lines_text
    from fedlink.progress import progress_bar

    with _open(node_dir) as runtime, progress_bar("ingest", unit="rows read") as report:
        summary = run_ingest(runtime.settings.node, runtime.sessions, runtime.audit,
                             strict=strict, max_quarantine_pct=max_quarantine_pct,
                             lock_dir=runtime.settings.dir, progress=report)
    _out.print(f"ingest #{summary.run_id} from {summary.source}: {summary.rows} rows, "
               f"{summary.loaded} loaded, {summary.quarantined} quarantined; "
               f"{summary.records_in_store} records in the store")
    _out.print(f"  source lines ({summary.encoding}): {lines_text(summary.accounting)}")
    for run_id in summary.interrupted_runs:
        _out.print(f"  ingest #{run_id} had been interrupted: marked and audited")
    for encoding, count in summary.encoding_fallbacks.items():
        _out.print(f"  {count} rows decoded as {encoding} (not UTF-8)")
    for reason, count in summary.reasons.most_common():
        _out.print(f"  quarantined: {reason}: {count}")
    for entry in summary.sample[:10]:
        span = (f"lines {entry['line_number']}-{entry['line_end']}"
                if entry["line_end"] != entry["line_number"] else f"line {entry['line_number']}")
        _out.print(f"    row {entry['row_number']} ({span}), "
                   f"column {entry['column']}: {entry['reason']} — {entry['detail']}")
    if summary.quarantined:
        _out.print("see `fedlink node profile` for the full picture")
    # The dictionary is recomputed from the store: say if the hub's copy is now stale.
    from fedlink.commands.node_dictionary import report_changes

    report_changes(node_dir)
    summary.raise_for_failure()  # nothing loaded / over the quarantine limit: exit non-zero


@node_app.command()
def profile(
    node_dir: DirOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """The data-quality profile of the node store, for the steward."""
    from agency_node.profile import build_profile, render_profile

    with _open(node_dir) as runtime:
        result = build_profile(runtime.settings.node, runtime.sessions)
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
    else:
        render_profile(result, _out)


@contextmanager
def _open(node_dir: Path) -> Iterator[NodeRuntime]:
    from agency_node.runtime import NodeRuntime

    with NodeRuntime.open(node_dir) as runtime:
        yield runtime


def _hub_client(runtime: NodeRuntime, *, url: str | None = None, token: bool = True,
                ca_file: str | None = None) -> HubClient:
    from agency_node.hub_client import HubClient, check_hub_url
    from agency_node.keys import load_hub_token

    settings = runtime.settings
    base = url or settings.hub_url
    if not base:
        raise ConfigError("no hub URL: enroll first (`fedlink node enroll --hub URL`)")
    check_hub_url(base, allow_insecure_http=settings.allow_insecure_http)
    return HubClient(base, token=load_hub_token(settings.dir) if token else None,
                     transport=hub_transport, ca_file=ca_file or settings.hub_ca_file or None)


@node_app.command()
def enroll(
    node_dir: DirOption,
    hub: Annotated[str, typer.Option(help="The hub's URL.", show_default=False)],
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="File (mode 0600) holding the one-time enrollment token from "
        "the hub admin; or set FEDLINK_ENROLLMENT_TOKEN.", show_default=False)] = None,
    ca_file: Annotated[Path | None, typer.Option(
        "--ca-file", help="CA bundle that verifies the hub's certificate (kept in node.toml).")]
    = None,
    assembly_kid: Annotated[str | None, typer.Option(
        "--assembly-kid", help="The assembly key id given out of band by the hub operator; "
        "enrollment fails if the hub hands out another key.")] = None,
    assembly_signing_kid: Annotated[str | None, typer.Option(
        "--assembly-signing-kid", help="The assembly signing key id given out of band by the "
        "hub operator; enrollment fails if the hub hands out another key.")] = None,
    roster_fingerprint: Annotated[str | None, typer.Option(
        "--roster-fingerprint", help="The governance roster fingerprint given out of band; "
        "the node pins the hub's roster only if it matches.")] = None,
    rotate_key: Annotated[bool, typer.Option(
        "--rotate-key", help="Re-enrolment: enroll a new signing key, which replaces this "
        "node's key once the hub accepts it (restart `fedlink node serve` afterwards).")]
    = False,
) -> None:
    """Enroll this node with the hub: send its key and dictionary, keep the hub's keys.
    Again with a re-enrolment token from `fedlink hub agency update --reenrol`."""
    from agency_node.config import update_hub_ca_file
    from agency_node.services.enrollment import enroll as enroll_node
    from fedlink.secretfile import resolve_secret

    # Never a flag value: a token on the command line shows in `ps` and shell history.
    token = resolve_secret(token_file, env="FEDLINK_ENROLLMENT_TOKEN",
                           what="enrollment token")
    if not token:
        raise ConfigError("give the enrollment token in FEDLINK_ENROLLMENT_TOKEN or a 0600 "
                          "file with --token-file FILE")
    ca = str(ca_file.expanduser().resolve()) if ca_file else None
    with (
        _open(node_dir) as runtime,
        _hub_client(runtime, url=hub, token=False, ca_file=ca) as client,
    ):
        response = enroll_node(runtime, client, hub_url=hub, token=token,
                               expected_assembly_kid=assembly_kid,
                               expected_assembly_signing_kid=assembly_signing_kid,
                               rotate_key=rotate_key)
        if ca:
            update_hub_ca_file(runtime.settings.dir, ca)
    _out.print(f"enrolled {response.agency} with {hub}; hub signing key "
               f"{response.hub_signing_kid}, HPKE key {response.hub_hpke_kid}; assembly "
               f"key {response.assembly_hpke_kid or 'none (extracts refused)'}, assembly "
               f"signing key {response.assembly_signing_kid or 'none (extracts refused)'} "
               "pinned; "
               "node API token stored (0600)")
    # Governance members' roster, pinned now if the hub has one (fedlink/commands/node_roster).
    from fedlink.commands.node_roster import pin_and_report

    pin_and_report(node_dir, roster_fingerprint, lenient=True)


@node_app.command()
def serve(
    node_dir: DirOption,
    host: Annotated[str | None, typer.Option(help="Bind address (node.toml by default).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (node.toml by default).")] = None,
    ssl_certfile: Annotated[str | None, typer.Option(
        "--ssl-certfile", help="TLS certificate (PEM), e.g. from `fedlink pki issue`.")] = None,
    ssl_keyfile: Annotated[str | None, typer.Option(
        "--ssl-keyfile", help="TLS private key (PEM, mode 0600).")] = None,
) -> None:
    """Serve the node API (match and extract requests from the enrolled hub; /health, /ready,
    /metrics; JSON logs on stderr)."""
    from agency_node.api.app import create_app
    from agency_node.settings import NodeSettings
    from fedlink.serving import run

    settings = NodeSettings.load(node_dir)
    given = {"host": host, "port": port, "ssl_certfile": ssl_certfile,
             "ssl_keyfile": ssl_keyfile}
    settings = settings.model_copy(update={k: v for k, v in given.items() if v is not None})
    if bool(settings.ssl_certfile) != bool(settings.ssl_keyfile):
        raise ConfigError("--ssl-certfile and --ssl-keyfile go together: give both or neither")
    settings.require_transport()
    app = create_app(settings)
    # Fail closed on governance: say at start, in one line, why every request will be
    # refused (or that the operator opted out) and what to run.
    from agency_node.services.governance import startup_warning

    warning = startup_warning(app.state.services.runtime)
    if warning:
        typer.echo(warning, err=True)
    run(app, host=settings.host, port=settings.port, what=f"agency node {settings.agency}",
        log_level=settings.log_level, certfile=settings.ssl_certfile,
        keyfile=settings.ssl_keyfile,
        request_filter="agency_node.api.observability.RequestIdFilter")


def _show_terms(terms: Terms) -> None:
    from rich.table import Table

    raw = terms.raw
    table = Table(title=f"Project {terms.project_id}: {raw.get('title', '')}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("status at the hub", terms.status or "-"),
        ("public summary", str(raw.get("public_summary", ""))),
        ("research questions", _text(raw.get("research_questions"))),
        ("variables", ", ".join(terms.variables)),
        ("years", f"{min(terms.years)}–{max(terms.years)}" if terms.years else "-"),
        ("cohort", _text([c.model_dump() for c in terms.cohort.conditions]) or "all records"),
        ("term", f"{terms.term_start} to {terms.term_end}"),
        ("matching authorised", "yes" if terms.matching_authorised else "no"),
        ("allowable uses", _text(raw.get("allowable_uses"))),
        ("personnel", _text(raw.get("personnel"))),
        ("disposition", _text(raw.get("disposition"))),
        ("terms digest", terms.digest),
    ]
    for key, value in rows:
        table.add_row(key, value)
    _out.print(table)


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)


StewardKeyOption = Annotated[Path | None, typer.Option(
    "--steward-key", help="Your own steward key (`fedlink node steward keygen`, 0600); "
    "required once agency IT registered steward keys on this node.", show_default=False)]


def _decide(node_dir: Path, project_id: str, decision: Decision, reason: str, yes: bool,
            steward_key: Path | None = None) -> None:
    from agency_node.services.approvals import steward_decide
    from fedlink.governance_keys import load_key_file

    key = load_key_file(steward_key, what="steward key") if steward_key else None

    def confirm(terms: Terms) -> bool:
        _show_terms(terms)
        verb = "Approve" if decision == "approve" else "Deny"
        return yes or typer.confirm(f"{verb} project {project_id} for this agency?", default=False)

    with _open(node_dir) as runtime, _hub_client(runtime) as client:
        answer = steward_decide(runtime, client, project_id=project_id, decision=decision,
                                reason=reason, confirm=confirm, steward_key=key)
    done = "approved" if decision == "approve" else "denied"
    status = answer.get("status")
    _out.print(f"project {project_id} {done} on this node and sent to the hub, signed"
               + (f" (hub status: {status})" if status else ""))


@node_app.command()
def approve(
    project_id: Annotated[str, typer.Argument(help="The project (request) id.")],
    node_dir: DirOption,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    steward_key: StewardKeyOption = None,
) -> None:
    """Approve a project's terms for this agency (recorded here, signed to the hub)."""
    _decide(node_dir, project_id, "approve", "", yes, steward_key)


@node_app.command()
def deny(
    project_id: Annotated[str, typer.Argument(help="The project (request) id.")],
    node_dir: DirOption,
    reason: Annotated[str, typer.Option(help="Why (shown to the requester).", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    steward_key: StewardKeyOption = None,
) -> None:
    """Deny (or withdraw consent from) a project for this agency."""
    _decide(node_dir, project_id, "deny", reason, yes, steward_key)
