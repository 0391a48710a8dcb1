"""``fedlink-client findings|deliverables|publication``: a researcher's reports back to the
agencies (docs/findings.md).

``findings upload`` shares a report with the stewards of the project's agencies; ``list``,
``show`` and ``download`` (SHA-256 checked) read them back with the stewards' comments and
objections; ``comment`` answers them and ``release`` publishes a report once the review
window closed with no standing objection. ``deliverables PROJECT`` lists what the agreement
owes and when; ``publication add|list`` keep the public register.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from fedlink_client.client import Client
from fedlink_client.errors import InvalidInput
from fedlink_client.findings import KINDS
from fedlink_client.models import Report

Handler = Callable[[argparse.Namespace], int]


def _connect(args: argparse.Namespace, *, token: bool = True) -> Client:
    # ``args.connect`` is cli._client, looked up when called (tests replace it).
    connect: Callable[..., Client] = args.connect
    return connect(args, token=token)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def _line(report: Report) -> str:
    state = report.status
    if state == "in_review":
        until = report.review_ends_at.date().isoformat() if report.review_ends_at else "?"
        notes = [f"until {until}"]
        if report.standing_objections:
            notes.append(f"{report.standing_objections} objection(s)")
        if report.releasable:
            notes.append("releasable")
        state = f"in_review {', '.join(notes)}"
    return f"{report.id}  {report.project_id:<18} {report.kind:<8} {report.title}  [{state}]"


def _upload(args: argparse.Namespace) -> int:
    with _connect(args) as hub:
        report = hub.upload_report(args.project_id, args.file, title=args.title,
                                   kind=args.kind, deliverable=args.deliverable)
    until = report.review_ends_at.date().isoformat() if report.review_ends_at else "?"
    print(f"report {report.id} shared with the agencies; review window until {until}")
    return 0


def _list(args: argparse.Namespace) -> int:
    with _connect(args) as hub:
        rows = hub.list_reports(args.project)
    if args.json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return 0
    for row in rows:
        print(_line(row))
    if not rows:
        print("no reports")
    return 0


def _show(args: argparse.Namespace) -> int:
    with _connect(args) as hub:
        _print_json(hub.get_report(args.report_id).model_dump(mode="json"))
    return 0


def _download(args: argparse.Namespace) -> int:
    with _connect(args) as hub:
        saved = hub.download_report(args.report_id, args.out, overwrite=args.overwrite)
    print(f"report {saved.report.id}: sha256 {saved.sha256} verified; {saved.path}")
    return 0


def _comment(args: argparse.Namespace) -> int:
    with _connect(args) as hub:
        row = hub.comment_report(args.report_id, args.text)
    print(f"comment {row.id} on report {args.report_id} recorded")
    return 0


def _release(args: argparse.Namespace) -> int:
    with _connect(args) as hub:
        report = hub.release_report(args.report_id)
    print(f"report {report.id} released: GET /v1/public/findings/{report.id}")
    return 0


def _deliverables(args: argparse.Namespace) -> int:
    with _connect(args) as hub:
        rows = hub.deliverables(args.project_id)
    for row in rows:
        print(f"{row.due}  {row.status:<9} {row.kind:<7} {row.title}")
    if not rows:
        print("the agreement lists no deliverables")
    return 0


def _publication_add(args: argparse.Namespace) -> int:
    try:
        day = dt.date.fromisoformat(args.published)
    except ValueError:
        raise InvalidInput(f"--published {args.published!r}: give a date as "
                           "YYYY-MM-DD") from None
    with _connect(args) as hub:
        row = hub.add_publication(args.project_id, args.citation, day, url=args.url,
                                  doi=args.doi, report_id=args.report)
    print(f"publication {row.id} registered for project {row.project_id}")
    return 0


def _publication_list(args: argparse.Namespace) -> int:
    with _connect(args, token=False) as hub:  # the register is public
        rows = hub.publications()
    if args.json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return 0
    for row in rows:
        where = f"doi:{row.doi}" if row.doi else row.url or ""
        print(f"{row.published_on}  {row.project_id:<18} {row.citation}"
              f"{'  ' + where if where else ''}")
    if not rows:
        print("no publications registered")
    return 0


def register(commands: Any, command: Callable[[Any, str, Handler, str], Any]) -> None:
    """Add ``findings``, ``deliverables`` and ``publication`` to the CLI's subcommands."""
    findings = commands.add_parser(
        "findings", help="reports back to the agencies").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND")
    upload = command(findings, "upload", _upload, "upload a report: shared with the "
                     "project's agencies' stewards, public only once released")
    upload.add_argument("project_id", help="your approved project")
    upload.add_argument("file", help="the report: .pdf, .docx, .txt or .md, at most 10 MiB")
    upload.add_argument("--title", required=True, help="the report's title")
    upload.add_argument("--kind", default="interim", choices=KINDS)
    upload.add_argument("--deliverable", default=None,
                        help="the title of the agreement's deliverable it answers")
    listed = command(findings, "list", _list, "the reports you may see and their review")
    listed.add_argument("--project", default=None, help="one project only")
    listed.add_argument("--json", action="store_true", help="as JSON")
    command(findings, "show", _show, "one report with its comments and objections (JSON)") \
        .add_argument("report_id")
    download = command(findings, "download", _download,
                       "download a report's file and check its SHA-256")
    download.add_argument("report_id")
    download.add_argument("--out", required=True, help="directory to put it in")
    download.add_argument("--overwrite", action="store_true",
                          help="replace a file of the same name")
    comment = command(findings, "comment", _comment, "comment on a report (answer the "
                      "agencies)")
    comment.add_argument("report_id")
    comment.add_argument("--text", required=True)
    command(findings, "release", _release, "release a report to the public (after the "
            "review window, with no standing objection)").add_argument("report_id")

    command(commands, "deliverables", _deliverables,
            "the agreement's deliverables, due dates and status").add_argument("project_id")

    publication = commands.add_parser(
        "publication", help="the publications register").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND")
    add = command(publication, "add", _publication_add, "register a publication of your "
                  "project")
    add.add_argument("project_id")
    add.add_argument("--citation", required=True, help="the full citation")
    add.add_argument("--published", required=True, help="publication date, YYYY-MM-DD")
    add.add_argument("--url", default=None, help="where to read it (http or https)")
    add.add_argument("--doi", default=None, help="its DOI (10.NNNN/suffix)")
    add.add_argument("--report", default=None, help="the released report it publishes")
    command(publication, "list", _publication_list, "the public register (no token)") \
        .add_argument("--json", action="store_true", help="as JSON")
