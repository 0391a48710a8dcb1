"""``fedlink findings …``: reports back to the agencies (docs/findings.md).

Researchers upload a report to their approved project (``upload``); the stewards of the
project's agencies and governance read it (``list``, ``show``, ``download``), comment or
object during the review window (``comment``, ``object``); the objecting agency withdraws
its objection (``withdraw``) or governance overrides it (``override``); after the window,
with no standing objection, the researcher or governance ``release`` it to the public.
``deliverables`` lists the agreement's deliverables with their due dates and status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.hub_options import HubUrlOption, TokenOption

findings_app = typer.Typer(name="findings", help="Reports back to the agencies: upload, "
                           "review window, objections, release.", no_args_is_help=True)

ReportArg = Annotated[str, typer.Argument(help="The report id (rpt-…).", show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(findings_app, name="findings")


def _line(report: dict[str, Any]) -> str:
    state = report["status"]
    if state == "in_review":
        notes = [f"until {report['review_ends_at'][:10]}"]
        if report["standing_objections"]:
            notes.append(f"{report['standing_objections']} objection(s)")
        if report["releasable"]:
            notes.append("releasable")
        state = f"in_review {', '.join(notes)}"
    return (f"{report['id']}  {report['project_id']:<18} {report['kind']:<8} "
            f"{report['title']}  [{state}]")


@findings_app.command()
def upload(
    project_id: Annotated[str, typer.Argument(help="The approved project (request) id.")],
    file: Annotated[Path, typer.Argument(help="The report: .pdf, .docx, .txt or .md "
                                              "(at most 10 MiB).")],
    title: Annotated[str, typer.Option(help="The report's title.", show_default=False)],
    kind: Annotated[str, typer.Option(help="interim, final, brief or other.")] = "interim",
    deliverable: Annotated[str | None, typer.Option(
        help="The title of the agreement's deliverable it answers.")] = None,
    hub: HubUrlOption = None, token: TokenOption = None,
) -> None:
    """Upload a report: shared at once with the project's agencies' stewards, public only
    once released after the review window."""
    # The file's type, size and reading are fedlink_client's (the same checks as
    # ``fedlink-client findings upload``).
    with hub_options.client(hub, token) as client:
        report = client.upload_report(project_id, file, title=title, kind=kind,
                                      deliverable=deliverable)
    typer.echo(f"report {report['id']} shared with the agencies; review window until "
               f"{report['review_ends_at'][:10]}")


@findings_app.command("list")
def list_(project: Annotated[str | None, typer.Option(help="Only this project's "
                                                           "reports.")] = None,
          hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """The reports you may see (yours, or your agency's projects')."""
    with hub_options.client(hub, token) as client:
        rows = client.list_reports(project)
    for row in rows:
        typer.echo(_line(row))
    if not rows:
        typer.echo("no reports")


@findings_app.command()
def show(report_id: ReportArg, hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """One report with its comments and objections (JSON)."""
    with hub_options.client(hub, token) as client:
        typer.echo(hub_options.dumps(client.get_report(report_id)))


@findings_app.command()
def download(report_id: ReportArg,
             out: Annotated[Path, typer.Option("--out", help="Directory to put it in.",
                                               show_default=False)],
             hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Download the report's file and check its SHA-256."""
    # fedlink_client checks the SHA-256 (header and metadata) and keeps the file name's
    # last component only, so nothing lands outside ``out``.
    with hub_options.client(hub, token) as client:
        saved = client.download_report(report_id, out)
    typer.echo(f"report {report_id}: sha256 {saved.sha256} verified; {saved.path}")


@findings_app.command()
def comment(report_id: ReportArg,
            text: Annotated[str, typer.Option(help="Your comment.", show_default=False)],
            hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Comment on a report (stewards, governance, the project's personnel)."""
    with hub_options.client(hub, token) as client:
        row = client.comment_report(report_id, text)
    typer.echo(f"comment {row['id']} on report {report_id} recorded")


@findings_app.command("object")
def object_(report_id: ReportArg,
            text: Annotated[str, typer.Option(help="What must change before release.",
                                              show_default=False)],
            hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Object to a report's release (a steward of one of the project's agencies, within the
    review window): it cannot be released while the objection stands."""
    with hub_options.client(hub, token) as client:
        row = client.comment_report(report_id, text, kind="objection")
    typer.echo(f"objection {row['id']} on report {report_id} recorded; its release is "
               "blocked while it stands")


@findings_app.command()
def withdraw(report_id: ReportArg,
             objection: Annotated[int, typer.Argument(help="The objection's id.")],
             hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Withdraw your agency's objection."""
    with hub_options.client(hub, token) as client:
        client.withdraw_objection(report_id, objection)
    typer.echo(f"objection {objection} on report {report_id} withdrawn")


@findings_app.command()
def override(report_id: ReportArg,
             objection: Annotated[int, typer.Argument(help="The objection's id.")],
             reason: Annotated[str, typer.Option(help="Why it is overridden (audited).",
                                                 show_default=False)],
             hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Override a standing objection (governance)."""
    with hub_options.client(hub, token) as client:
        client.override_objection(report_id, objection, reason)
    typer.echo(f"objection {objection} on report {report_id} overridden")


@findings_app.command()
def release(report_id: ReportArg, hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Release a report to the public (after the window, with no standing objection)."""
    with hub_options.client(hub, token) as client:
        report = client.release_report(report_id)
    typer.echo(f"report {report['id']} released: GET /v1/public/findings/{report['id']}")


@findings_app.command()
def deliverables(project_id: Annotated[str, typer.Argument(help="The project id.")],
                 hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """The agreement's deliverables, their due dates and status."""
    with hub_options.client(hub, token) as client:
        rows = client.deliverables(project_id)
    for row in rows:
        typer.echo(f"{row['due']}  {row['status']:<9} {row['kind']:<7} {row['title']}")
    if not rows:
        typer.echo("the agreement lists no deliverables")
