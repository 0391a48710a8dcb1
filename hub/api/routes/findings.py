"""Findings back to agencies: reports, the stewards' review window, release, deliverables and
the publications register (hub.services.findings, docs/findings.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from hub.api.deps import (
    ContextDep,
    GovernanceCaller,
    RequestReaderCaller,
    ResearcherCaller,
    SessionDep,
    StewardCaller,
)
from hub.api.responses import PUBLIC, PUBLIC_OBJECT, USER, USER_CHANGE, USER_OBJECT, ok_as
from hub.api.schemas import RowId
from hub.api.schemas_findings import (
    CommentCreate,
    CommentView,
    DeliverableView,
    OverrideBody,
    PublicationCreate,
    PublicationView,
    ReportCreate,
    ReportView,
)
from hub.api.schemas_views import returns
from hub.services import findings, publications

router = APIRouter(tags=["findings"])

ReportId = Annotated[str, Path(max_length=40, description="The report's id")]
ProjectId = Annotated[str, Path(max_length=32, description="The project (request) id")]


def _file(report: Any) -> Response:
    return Response(report.content, media_type=report.content_type, headers={
        "X-Fedlink-SHA256": report.sha256,
        "Content-Disposition": f'attachment; filename="{report.filename}"',
        "X-Content-Type-Options": "nosniff"})


@router.post("/v1/findings", responses=USER_CHANGE, status_code=201, **returns(ReportView),
             summary="Upload a report; it is shared with the project's agencies' stewards "
             "[researcher (personnel)]")
def upload(body: ReportCreate, caller: ResearcherCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Upload an interim report, final paper or brief (PDF, Word, text or Markdown, at most
    10 MiB) to an approved project. It is shared at once with the stewards of the project's
    agencies and governance, and with nobody else; the review window of the agreement's
    `findings_review_days` starts. 409 `project_not_approved`; 422 `bad_report_file`,
    `report_too_large`, `unknown_deliverable`."""
    report = findings.upload_report(session, ctx, caller, findings.Upload(
        project_id=body.project_id, title=body.title, kind=body.kind,
        filename=body.filename, content_type=body.content_type,
        content_base64=body.content_base64, deliverable=body.deliverable))
    return publications.report_view(session, ctx, report)


@router.get("/v1/findings", responses=USER, **returns(list[ReportView]),
            summary="Reports the caller may see [researcher (personnel), governance, "
            "steward (project agency), auditor]")
def list_reports(caller: RequestReaderCaller, session: SessionDep, ctx: ContextDep,
                 project_id: Annotated[str | None, Query(max_length=32, description=(
                     "only this project's reports"))] = None) -> list[dict[str, Any]]:
    """Reports of the projects the caller may see, in review and released, oldest first."""
    return [publications.report_view(session, ctx, r)
            for r in findings.list_reports(session, ctx, caller, project_id=project_id)]


@router.get("/v1/findings/{report_id}", responses=USER_OBJECT, **returns(ReportView),
            summary="One report with its comments and objections [as above]")
def get(report_id: ReportId, caller: RequestReaderCaller, session: SessionDep,
        ctx: ContextDep) -> dict[str, Any]:
    """One report's metadata, its review window and every comment and objection."""
    report, comments = findings.get_report(session, ctx, caller, report_id=report_id)
    return publications.report_view(session, ctx, report, comments=comments)


@router.get("/v1/findings/{report_id}/file",
            responses={**USER_OBJECT, **ok_as(*findings.CONTENT_TYPES)},
            summary="The report's file [as above]")
def download(report_id: ReportId, caller: RequestReaderCaller, session: SessionDep,
             ctx: ContextDep) -> Response:
    """The uploaded file, its SHA-256 in `X-Fedlink-SHA256` (audited)."""
    report, _ = findings.get_report(session, ctx, caller, report_id=report_id, download=True)
    return _file(report)


@router.post("/v1/findings/{report_id}/comments", responses=USER_CHANGE, status_code=201,
             **returns(CommentView),
             summary="Comment on a report, or object to its release [steward (project "
             "agency); comments also governance and personnel]")
def comment(report_id: ReportId, body: CommentCreate, caller: RequestReaderCaller,
            session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """A comment, or (stewards only, within the review window: 409 `review_window_closed`)
    an objection: the report cannot be released while an objection stands."""
    row = findings.comment(session, ctx, caller, report_id=report_id, kind=body.kind,
                           text=body.text)
    return publications.comment_view(row)


@router.post("/v1/findings/{report_id}/comments/{comment_id}/withdraw",
             responses=USER_CHANGE, **returns(CommentView),
             summary="Withdraw an objection [steward (objecting agency)]")
def withdraw(report_id: ReportId, comment_id: RowId, caller: StewardCaller,
             session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """The objecting agency withdraws its objection (409 `objection_not_standing` if it
    no longer stands)."""
    row = findings.withdraw_objection(session, ctx, caller, report_id=report_id,
                                      comment_id=comment_id)
    return publications.comment_view(row)


@router.post("/v1/findings/{report_id}/comments/{comment_id}/override",
             responses=USER_CHANGE, **returns(CommentView),
             summary="Override an objection, with a reason [governance]")
def override(report_id: ReportId, comment_id: RowId, body: OverrideBody,
             caller: GovernanceCaller, session: SessionDep, ctx: ContextDep
             ) -> dict[str, Any]:
    """Governance overrides a standing objection; the reason is audited and shown with it."""
    row = findings.override_objection(session, ctx, caller, report_id=report_id,
                                      comment_id=comment_id, reason=body.reason)
    return publications.comment_view(row)


@router.post("/v1/findings/{report_id}/release", responses=USER_CHANGE,
             **returns(ReportView),
             summary="Release a report to the public after the review window [researcher "
             "(personnel), governance]")
def release(report_id: ReportId, caller: RequestReaderCaller, session: SessionDep,
            ctx: ContextDep) -> dict[str, Any]:
    """Publish the report: 409 `review_window_open` before the window closes, 409
    `objection_standing` while an objection stands, 409 `already_released`."""
    report = findings.release(session, ctx, caller, report_id=report_id)
    return publications.report_view(session, ctx, report)


@router.get("/v1/projects/{project_id}/deliverables", responses=USER_OBJECT,
            **returns(list[DeliverableView]),
            summary="The agreement's deliverables with due dates and status [as above]")
def deliverables(project_id: ProjectId, caller: RequestReaderCaller, session: SessionDep,
                 ctx: ContextDep) -> list[dict[str, Any]]:
    """Each deliverable: due day and `released`, `in_review`, `overdue` or `due`."""
    return findings.deliverables(session, ctx, caller, project_id=project_id)


@router.post("/v1/publications", responses=USER_CHANGE, status_code=201,
             **returns(PublicationView),
             summary="Register a publication [researcher (personnel), governance]")
def add_publication(body: PublicationCreate, caller: RequestReaderCaller,
                    session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Add a publication of an approved project to the public register, optionally linked to
    one of its released reports."""
    row = publications.add_publication(
        session, ctx, caller, project_id=body.project_id, citation=body.citation,
        published_on=body.published_on, url=body.url, doi=body.doi, report_id=body.report_id)
    return publications.publication_view(row)


@router.get("/v1/public/publications", responses=PUBLIC, tags=["public"],
            **returns(list[PublicationView]),
            summary="The publications register [public]")
def register(session: SessionDep) -> list[dict[str, Any]]:
    """Every registered publication of approved projects, oldest first. No token."""
    return publications.public_register(session)


@router.get("/v1/public/findings/{report_id}",
            responses={**PUBLIC_OBJECT, **ok_as(*findings.CONTENT_TYPES)},
            tags=["public"], summary="A released report's file [public]")
def public_file(report_id: ReportId, session: SessionDep) -> Response:
    """A released report, with its SHA-256 in `X-Fedlink-SHA256`. No token; a report still
    in the agencies' review is 404."""
    return _file(publications.public_report(session, report_id=report_id))
