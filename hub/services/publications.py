"""The publications register and what the public sees of findings (docs/findings.md).

A publication (citation, URL or DOI, date) is linked to its approved project and, when it
publishes one, to a *released* report: the register never points at a report the agencies
are still reviewing. The register and released reports are public; reports in review never
are.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any, Final

from sqlalchemy.orm import Session

from hub.db.models import FindingsComment, FindingsReport, Publication
from hub.domain.lifecycle import APPROVED_ONCE
from hub.domain.roles import Caller, Role
from hub.errors import ConflictError, HubError, InvalidInputError, NotFoundError
from hub.errors import PermissionDeniedError as Forbidden
from hub.persistence import findings as store
from hub.persistence import requests as request_store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.extract_policy import is_personnel, visible_project
from hub.services.findings import FINDINGS_STATUSES, standing
from hub.services.terms import in_force_dsa

DOI: Final = re.compile(r"^10\.\d{4,9}/\S{1,180}$")
URL: Final = re.compile(r"^https?://\S{1,490}$")


def add_publication(session: Session, ctx: HubContext, caller: Caller, *, project_id: str,
                    citation: str, published_on: dt.date, url: str | None = None,
                    doi: str | None = None, report_id: str | None = None) -> Publication:
    """Register a publication of an approved project (personnel or governance)."""
    fields: dict[str, Any] = {"object_type": "publication", "project": project_id}
    try:
        request = visible_project(session, caller, project_id=project_id)
        principal = caller.principal
        if not (is_personnel(request, principal)
                or (principal is not None and principal.role == Role.GOVERNANCE)):
            raise Forbidden("the project's personnel or governance register its publications",
                            code="not_personnel")
        if request.status not in FINDINGS_STATUSES:
            raise ConflictError(f"project {project_id} is {request.status}; publications are "
                                "registered for approved projects", code="project_not_approved")
        if not citation.strip():
            raise InvalidInputError("a publication needs its citation", code="citation_required")
        if url is not None and not URL.match(url):
            raise InvalidInputError("url must be an http(s) URL", code="bad_url")
        if doi is not None and not DOI.match(doi):
            raise InvalidInputError("doi must look like 10.NNNN/suffix", code="bad_doi")
        if report_id is not None:
            report = store.get_report(session, report_id=report_id)
            if report is None or report.project_id != project_id:
                raise NotFoundError(f"project {project_id} has no report {report_id}")
            if report.status != "released":
                # The agencies see findings before the public: the register may not name a
                # report still in their review.
                raise ConflictError(f"report {report_id} is not released yet",
                                    code="report_not_released")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="publication.refused", **fields)
    assert principal is not None and principal.id is not None
    row = store.create_publication(session, values={
        "id": f"pub-{secrets.token_hex(6)}", "project_id": project_id, "report_id": report_id,
        "citation": citation.strip(), "url": url, "doi": doi, "published_on": published_on,
        "added_by": principal.id, "created_at": ctx.now()})
    audit.record(session, ctx, caller, action="publication.added", object_id=row.id,
                 detail={"report_id": report_id, "doi": doi}, **fields)
    session.commit()
    return row


def publication_view(row: Publication, *, title: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row.id, "project_id": row.project_id, "report_id": row.report_id,
        "citation": row.citation, "url": row.url, "doi": row.doi,
        "published_on": row.published_on.isoformat()}
    if title is not None:
        view["project_title"] = title
    return view


def public_register(session: Session) -> list[dict[str, Any]]:
    """Every publication of a project approved once, with the project's title."""
    requests = {r.id: r for r in request_store.list_requests(session)
                if r.status in APPROVED_ONCE or r.status == "amending"}
    return [publication_view(p, title=in_force_dsa(requests[p.project_id]).title)
            for p in store.list_publications(session, project_ids=list(requests))]


def publications_of(session: Session, *, project_id: str) -> list[dict[str, Any]]:
    """The project's publications, for its public entry."""
    return [publication_view(p) for p in store.list_publications(
        session, project_ids=[project_id])]


def released_findings(session: Session, *, project_id: str) -> list[dict[str, Any]]:
    """The project's released reports, for its public entry (no names, no comments)."""
    return [{"id": r.id, "title": r.title, "kind": r.kind, "deliverable": r.deliverable,
             "content_type": r.content_type, "size_bytes": r.size_bytes, "sha256": r.sha256,
             "released_at": r.released_at.date().isoformat() if r.released_at else None}
            for r in store.list_reports(session, project_ids=[project_id],
                                        statuses=["released"])]


def public_report(session: Session, *, report_id: str) -> FindingsReport:
    """A released report (its file); anything else is 404 to the public."""
    report = store.get_report(session, report_id=report_id)
    if report is None or report.status != "released":
        raise NotFoundError(f"report {report_id} does not exist")
    return report


def comment_view(row: FindingsComment) -> dict[str, Any]:
    """A comment or objection: the author's role and agency, never their name (researchers
    read these)."""
    status = None
    if row.kind == "objection":
        status = ("standing" if standing(row)
                  else "withdrawn" if row.withdrawn_at is not None else "overridden")
    return {"id": row.id, "kind": row.kind, "author_role": row.author_role,
            "agency": row.agency_code, "text": row.text,
            "created_at": row.created_at.isoformat(), "status": status,
            "override_reason": row.override_reason}


def report_view(session: Session, ctx: HubContext, report: FindingsReport, *,
                comments: list[FindingsComment] | None = None) -> dict[str, Any]:
    """A report's metadata (no file bytes) for those who may see it; ``comments`` when read
    one by one."""
    rows = comments if comments is not None else store.comments(session, report_id=report.id)
    objections = sum(1 for c in rows if standing(c))
    window_open = ctx.now() < report.review_ends_at
    view: dict[str, Any] = {
        "id": report.id, "project_id": report.project_id, "deliverable": report.deliverable,
        "title": report.title, "kind": report.kind, "filename": report.filename,
        "content_type": report.content_type, "size_bytes": report.size_bytes,
        "sha256": report.sha256, "status": report.status,
        "created_at": report.created_at.isoformat(), "review_days": report.review_days,
        "review_ends_at": report.review_ends_at.isoformat(), "window_open": window_open,
        "standing_objections": objections,
        "releasable": report.status == "in_review" and not window_open and not objections,
        "released_at": report.released_at.isoformat() if report.released_at else None}
    if comments is not None:
        view["comments"] = [comment_view(c) for c in comments]
    return view
