"""A project's reports to the agencies (docs/findings.md): stewards of its agencies read them
within the review window, comment or object, withdraw their agency's objection; governance
overrides an objection; the personnel (or governance) release a report once the window has
passed with no standing objection.

Every action is the API's service (:mod:`hub.services.findings`) — same rules, same audit
events; a refusal is shown on the page with its status, never a 500. Reports are uploaded
with ``fedlink findings upload`` or ``POST /v1/findings``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.api.deps import ContextDep, SessionDep
from hub.domain.roles import Role
from hub.errors import HubError, NotFoundError
from hub.persistence import findings as store
from hub.persistence import requests as request_store
from hub.services import findings, publications
from hub.services.extract_policy import is_personnel
from hub.services.terms import in_force_dsa
from hub.services.web_sessions import SignedIn
from hub.web.deps import CsrfChecked, ProjectPage
from hub.web.pages import PageRoute, render

router = APIRouter(prefix="/projects", route_class=PageRoute, include_in_schema=False)

Id = Annotated[str, Path(max_length=64)]
CommentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_DONE = {"comment": "Your comment is recorded.", "objection": "Your objection is recorded: "
         "the report cannot be released while it stands.",
         "withdrawn": "The objection is withdrawn.", "overridden": "The objection is overridden.",
         "released": "The report is released: it is on the public page now."}


def _page(request: Request, me: SignedIn, session: SessionDep, ctx: ContextDep,
          project_id: str, *, status: int = 200, error: str = "",
          done: str = "") -> HTMLResponse:
    # deliverables() checks the caller may see the project (404 otherwise, audited).
    deliverables = findings.deliverables(session, ctx, me.caller, project_id=project_id)
    project = request_store.get_request(session, request_id=project_id)
    assert project is not None  # deliverables() found it
    reports: list[dict[str, Any]] = []
    for report in findings.list_reports(session, ctx, me.caller, project_id=project_id):
        reports.append(publications.report_view(
            session, ctx, report, comments=store.comments(session, report_id=report.id)))
    return render(request, "findings.html", status=status, project=project,
                  dsa=in_force_dsa(project), deliverables=deliverables, reports=reports,
                  error=error, done=_DONE.get(done, ""),
                  is_steward=me.role == Role.STEWARD, is_governance=me.role == Role.GOVERNANCE,
                  may_release=me.role == Role.GOVERNANCE
                  or is_personnel(project, me.caller.principal),
                  agency=me.caller.principal.agency if me.caller.principal else None)


def _report_of(session: SessionDep, project_id: str, report_id: str) -> None:
    """404 unless the report belongs to the project in the address (the service checks
    the caller may see it)."""
    report = store.get_report(session, report_id=report_id)
    if report is None or report.project_id != project_id:
        raise NotFoundError(f"project {project_id} has no report {report_id}")


def _act(request: Request, me: SignedIn, session: SessionDep, ctx: ContextDep,
         project_id: str, report_id: str, done: str, action: Any) -> Response:
    _report_of(session, project_id, report_id)
    try:
        action()
    except HubError as exc:
        if isinstance(exc, NotFoundError):
            raise
        session.rollback()
        return _page(request, me, session, ctx, project_id, status=exc.status,
                     error=f"{str(exc)[0].upper()}{str(exc)[1:]}.")
    return RedirectResponse(f"/projects/{quote(project_id)}/findings?done={done}"
                            f"#report-{quote(report_id)}", status_code=303)


@router.get("/{project_id}/findings")
def page(request: Request, project_id: Id, me: ProjectPage, session: SessionDep,
         ctx: ContextDep, done: str = "") -> HTMLResponse:
    return _page(request, me, session, ctx, project_id, done=done)


@router.get("/{project_id}/findings/{report_id}/file")
def file(project_id: Id, report_id: Id, me: ProjectPage, session: SessionDep,
         ctx: ContextDep) -> Response:
    """The report's file (audited as ``findings.downloaded``, as through the API)."""
    _report_of(session, project_id, report_id)
    report, _ = findings.get_report(session, ctx, me.caller, report_id=report_id,
                                    download=True)
    return Response(report.content, media_type=report.content_type, headers={
        "X-Fedlink-SHA256": report.sha256, "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'attachment; filename="{report.filename}"'})


@router.post("/{project_id}/findings/{report_id}/comments")
def comment(request: Request, project_id: Id, report_id: Id, me: ProjectPage,
            _csrf: CsrfChecked, session: SessionDep, ctx: ContextDep,
            kind: Annotated[str, Form(max_length=16)] = "comment",
            text: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    kind = "objection" if kind == "objection" else "comment"
    return _act(request, me, session, ctx, project_id, report_id, kind,
                lambda: findings.comment(session, ctx, me.caller, report_id=report_id,
                                         kind=kind, text=text))


@router.post("/{project_id}/findings/{report_id}/comments/{comment_id}/withdraw")
def withdraw(request: Request, project_id: Id, report_id: Id, comment_id: CommentId,
             me: ProjectPage, _csrf: CsrfChecked, session: SessionDep,
             ctx: ContextDep) -> Response:
    return _act(request, me, session, ctx, project_id, report_id, "withdrawn",
                lambda: findings.withdraw_objection(session, ctx, me.caller,
                                                    report_id=report_id,
                                                    comment_id=comment_id))


@router.post("/{project_id}/findings/{report_id}/comments/{comment_id}/override")
def override(request: Request, project_id: Id, report_id: Id, comment_id: CommentId,
             me: ProjectPage, _csrf: CsrfChecked, session: SessionDep, ctx: ContextDep,
             reason: Annotated[str, Form(max_length=5000)] = "") -> Response:
    return _act(request, me, session, ctx, project_id, report_id, "overridden",
                lambda: findings.override_objection(session, ctx, me.caller,
                                                    report_id=report_id,
                                                    comment_id=comment_id, reason=reason))


@router.post("/{project_id}/findings/{report_id}/release")
def release(request: Request, project_id: Id, report_id: Id, me: ProjectPage,
            _csrf: CsrfChecked, session: SessionDep, ctx: ContextDep) -> Response:
    return _act(request, me, session, ctx, project_id, report_id, "released",
                lambda: findings.release(session, ctx, me.caller, report_id=report_id))
