"""Findings back to agencies: reports shared with the agencies' stewards before the public
(docs/findings.md).

1. The project's personnel upload a report (interim report, final paper, brief: PDF, Word,
   plain text or Markdown, at most :data:`MAX_REPORT_BYTES`) to an approved project, linked
   to one of the agreement's ``deliverables`` or not. From that moment it is shared with
   the stewards of the project's agencies and with governance (auditors read it too, as
   every project's metadata) — never with anybody else, never with the public.
2. The review window (the agreement's ``findings_review_days``, fixed at upload) runs.
   Stewards comment, or object: an objection blocks the release while it stands — until the
   agency withdraws it or a governance member overrides it with a reason.
3. After the window, with no standing objection, the personnel (or governance) release it:
   only then does it appear on ``/v1/public/projects``, ``GET /v1/public/findings/{id}`` and
   the public page. Every step is audited (``findings.*``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from hub.db.models import FindingsComment, FindingsReport, Request
from hub.domain.lifecycle import APPROVED_ONCE
from hub.domain.roles import Caller, Role
from hub.errors import ConflictError, HubError, InvalidInputError, NotFoundError
from hub.errors import PermissionDeniedError as Forbidden
from hub.persistence import findings as store
from hub.persistence import requests as request_store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.extract_policy import is_personnel, may_see, visible_project
from hub.services.terms import in_force_dsa

#: The largest report file accepted (decoded bytes).
MAX_REPORT_BYTES: Final = 10 << 20
#: Content types accepted, each checked against the file's first bytes.
CONTENT_TYPES: Final = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (.docx)",
    "text/plain": "plain text",
    "text/markdown": "Markdown",
}
#: Statuses a project may receive findings in (``amending``: helper A's amendment state).
FINDINGS_STATUSES: Final = frozenset({*map(str, APPROVED_ONCE), "amending"})
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")


@dataclass(frozen=True)
class Upload:
    """What a researcher uploads (the API body, decoded by the route's model)."""

    project_id: str
    title: str
    kind: str
    filename: str
    content_type: str
    content_base64: str
    deliverable: str | None = None


def _decode(upload: Upload) -> bytes:
    try:
        data = base64.b64decode(upload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("content_base64 is not base64", code="bad_report_file") from None
    if not data:
        raise InvalidInputError("the report file is empty", code="bad_report_file")
    if len(data) > MAX_REPORT_BYTES:
        raise InvalidInputError(f"the report file is larger than {MAX_REPORT_BYTES} bytes",
                                code="report_too_large")
    if not _FILENAME.match(upload.filename) or ".." in upload.filename:
        raise InvalidInputError("filename: letters, digits, spaces, dots, dashes and "
                                "underscores only, no path", code="bad_report_file")
    if not _matches(upload.content_type, data):
        what = CONTENT_TYPES.get(upload.content_type, "of an accepted type")
        raise InvalidInputError(f"the file is not {what} as content_type says",
                                code="bad_report_file")
    return data


def _matches(content_type: str, data: bytes) -> bool:
    """The file's bytes are what ``content_type`` says (so a browser opening a released
    report gets what the public page promises, never an executable or HTML)."""
    if content_type == "application/pdf":
        return data.startswith(b"%PDF-")
    if content_type.startswith("application/vnd.openxmlformats"):
        return data.startswith(b"PK\x03\x04")
    if content_type in ("text/plain", "text/markdown"):
        try:
            return "\x00" not in data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return False


def upload_report(session: Session, ctx: HubContext, caller: Caller,
                  upload: Upload) -> FindingsReport:
    """Store the report and share it with the project's stewards and governance."""
    fields: dict[str, Any] = {"object_type": "findings", "project": upload.project_id}
    try:
        request = visible_project(session, caller, project_id=upload.project_id)
        if not is_personnel(request, caller.principal):
            raise Forbidden("only the project's personnel upload its reports",
                            code="not_personnel")
        if request.status not in FINDINGS_STATUSES:
            raise ConflictError(f"project {request.id} is {request.status}; reports are "
                                "uploaded to approved projects", code="project_not_approved")
        dsa = in_force_dsa(request)
        titles = [d.title for d in dsa.deliverables]
        if upload.deliverable is not None and upload.deliverable not in titles:
            raise InvalidInputError(f"the agreement has no deliverable {upload.deliverable!r}",
                                    code="unknown_deliverable")
        data = _decode(upload)
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="findings.upload_refused", **fields)
    assert caller.principal is not None and caller.principal.id is not None
    now = ctx.now()
    report = store.create_report(session, values={
        "id": f"rpt-{secrets.token_hex(6)}", "project_id": request.id,
        "deliverable": upload.deliverable, "title": upload.title, "kind": upload.kind,
        "filename": upload.filename, "content_type": upload.content_type,
        "size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "content": data,
        "submitted_by": caller.principal.id, "created_at": now,
        "review_days": dsa.findings_review_days,
        "review_ends_at": now + dt.timedelta(days=dsa.findings_review_days),
        "status": "in_review", "released_at": None, "released_by": None})
    # The audit event is the notice to the agencies: their stewards' pages and
    # `fedlink findings list` show it from now on.
    audit.record(session, ctx, caller, action="findings.uploaded", object_id=report.id,
                 detail={"kind": report.kind, "sha256": report.sha256,
                         "size_bytes": report.size_bytes, "deliverable": report.deliverable,
                         "review_ends_at": report.review_ends_at.isoformat(),
                         "shared_with": dsa.agencies}, **fields)
    session.commit()
    return report


def _visible(session: Session, caller: Caller, *, report_id: str,
             lock: bool = False) -> tuple[FindingsReport, Request]:
    report = store.get_report(session, report_id=report_id, lock=lock)
    request = (request_store.get_request(session, request_id=report.project_id)
               if report is not None else None)
    if report is None or request is None or not may_see(request, caller.principal):
        raise NotFoundError(f"report {report_id} does not exist")
    return report, request


def standing(comment: FindingsComment) -> bool:
    """An objection neither withdrawn nor overridden: it blocks the release."""
    return (comment.kind == "objection" and comment.withdrawn_at is None
            and comment.overridden_at is None)


def get_report(session: Session, ctx: HubContext, caller: Caller, *, report_id: str,
               download: bool = False) -> tuple[FindingsReport, list[FindingsComment]]:
    """One report with its comments; ``download`` audits a read of the file itself."""
    action = "findings.downloaded" if download else "findings.viewed"
    try:
        report, _ = _visible(session, caller, report_id=report_id)
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action=f"{action}_refused",
                     object_type="findings", object_id=report_id)
    audit.record(session, ctx, caller, action=action, object_type="findings",
                 object_id=report.id, project=report.project_id)
    session.commit()
    return report, store.comments(session, report_id=report.id)


def list_reports(session: Session, ctx: HubContext, caller: Caller, *,
                 project_id: str | None = None) -> list[FindingsReport]:
    """The reports of the projects the caller may see (optionally of one project)."""
    requests = {r.id: r for r in request_store.list_requests(session)
                if may_see(r, caller.principal)}
    ids = [i for i in requests if project_id is None or i == project_id]
    rows = store.list_reports(session, project_ids=ids) if ids else []
    audit.record(session, ctx, caller, action="findings.listed", object_type="findings",
                 project=project_id or "", detail={"count": len(rows)})
    session.commit()
    return rows


def comment(session: Session, ctx: HubContext, caller: Caller, *, report_id: str,
            kind: str, text: str) -> FindingsComment:
    """A comment (stewards of the project's agencies, governance, personnel) or an
    objection (stewards only, within the window)."""
    principal = caller.principal
    fields: dict[str, Any] = {"object_type": "findings", "object_id": report_id}
    try:
        report, request = _visible(session, caller, report_id=report_id, lock=True)
        fields["project"] = report.project_id
        steward = principal is not None and principal.role == Role.STEWARD
        if kind == "objection":
            if not steward:
                raise Forbidden("only a steward of one of the project's agencies objects",
                                code="not_steward")
            if report.status != "in_review":
                raise ConflictError("the report is already released", code="already_released")
            if ctx.now() >= report.review_ends_at:
                raise ConflictError("the review window closed on "
                                    f"{report.review_ends_at.date()}",
                                    code="review_window_closed")
        elif not (steward or (principal is not None and principal.role == Role.GOVERNANCE)
                  or is_personnel(request, principal)):
            raise Forbidden("auditors read reports; they do not comment", code="not_reviewer")
        if not text.strip():
            raise InvalidInputError(f"a {kind} needs text", code="text_required")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action=f"findings.{kind}_refused", **fields)
    assert principal is not None and principal.id is not None
    row = store.add_comment(session, values={
        "report_id": report.id, "author_id": principal.id, "author_role": principal.role,
        "agency_code": principal.agency if steward else None, "kind": kind,
        "text": text.strip(), "created_at": ctx.now()})
    audit.record(session, ctx, caller, action=f"findings.{kind}", agency=row.agency_code or "",
                 detail={"comment_id": row.id}, **fields)
    session.commit()
    return row


def _objection(session: Session, caller: Caller, *, report_id: str,
               comment_id: int) -> tuple[FindingsReport, FindingsComment]:
    report, _ = _visible(session, caller, report_id=report_id, lock=True)
    row = store.get_comment(session, report_id=report_id, comment_id=comment_id, lock=True)
    if row is None or row.kind != "objection":
        raise NotFoundError(f"report {report_id} has no objection {comment_id}")
    if not standing(row):
        raise ConflictError("the objection was already withdrawn or overridden",
                            code="objection_not_standing")
    return report, row


def withdraw_objection(session: Session, ctx: HubContext, caller: Caller, *, report_id: str,
                       comment_id: int) -> FindingsComment:
    """The objecting agency (any of its stewards) withdraws its objection."""
    fields: dict[str, Any] = {"object_type": "findings", "object_id": report_id}
    try:
        report, row = _objection(session, caller, report_id=report_id, comment_id=comment_id)
        fields["project"] = report.project_id
        principal = caller.principal
        if principal is None or principal.role != Role.STEWARD or \
                principal.agency != row.agency_code:
            raise Forbidden("only a steward of the objecting agency withdraws it",
                            code="not_objecting_agency")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="findings.withdraw_refused", **fields)
    row.withdrawn_at = ctx.now()
    audit.record(session, ctx, caller, action="findings.objection_withdrawn",
                 agency=row.agency_code or "", detail={"comment_id": row.id}, **fields)
    session.commit()
    return row


def override_objection(session: Session, ctx: HubContext, caller: Caller, *, report_id: str,
                       comment_id: int, reason: str) -> FindingsComment:
    """A governance member overrides a standing objection, with a reason (audited)."""
    fields: dict[str, Any] = {"object_type": "findings", "object_id": report_id}
    try:
        report, row = _objection(session, caller, report_id=report_id, comment_id=comment_id)
        fields["project"] = report.project_id
        if caller.principal is None or caller.principal.role != Role.GOVERNANCE:
            raise Forbidden("only governance overrides an objection", code="not_governance")
        if not reason.strip():
            raise InvalidInputError("overriding an objection needs a reason",
                                    code="reason_required")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="findings.override_refused", **fields)
    row.overridden_at, row.overridden_by = ctx.now(), caller.actor
    row.override_reason = reason.strip()
    audit.record(session, ctx, caller, action="findings.objection_overridden",
                 agency=row.agency_code or "",
                 detail={"comment_id": row.id, "reason": row.override_reason[:500]}, **fields)
    session.commit()
    return row


def release(session: Session, ctx: HubContext, caller: Caller, *,
            report_id: str) -> FindingsReport:
    """Release the report to the public: personnel or governance, after the window, with no
    standing objection."""
    fields: dict[str, Any] = {"object_type": "findings", "object_id": report_id}
    try:
        report, request = _visible(session, caller, report_id=report_id, lock=True)
        fields["project"] = report.project_id
        principal = caller.principal
        if not (is_personnel(request, principal)
                or (principal is not None and principal.role == Role.GOVERNANCE)):
            raise Forbidden("the project's personnel or governance release its reports",
                            code="not_releaser")
        if report.status != "in_review":
            raise ConflictError("the report is already released", code="already_released")
        if ctx.now() < report.review_ends_at:
            raise ConflictError("the agencies' review window is open until "
                                f"{report.review_ends_at.isoformat()}",
                                code="review_window_open")
        blocking = [c.id for c in store.comments(session, report_id=report.id) if standing(c)]
        if blocking:
            raise ConflictError(f"objection(s) {blocking} stand: the objecting agency "
                                "withdraws them or governance overrides them",
                                code="objection_standing")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="findings.release_refused", **fields)
    report.status, report.released_at, report.released_by = "released", ctx.now(), caller.actor
    audit.record(session, ctx, caller, action="findings.released",
                 detail={"sha256": report.sha256}, **fields)
    session.commit()
    return report


def deliverables(session: Session, ctx: HubContext, caller: Caller, *,
                 project_id: str) -> list[dict[str, Any]]:
    """The agreement's deliverables with their status: ``released`` (a report released),
    ``in_review`` (a report shared, not yet released), ``overdue`` (due day passed, no
    report) or ``due``."""
    try:
        request = visible_project(session, caller, project_id=project_id)
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="findings.deliverables_refused",
                     object_type="project", object_id=project_id)
    reports = store.list_reports(session, project_ids=[request.id])
    today = ctx.now().date()
    out = []
    for item in in_force_dsa(request).deliverables:
        mine = [r for r in reports if r.deliverable == item.title]
        status = ("released" if any(r.status == "released" for r in mine)
                  else "in_review" if mine else "overdue" if item.due < today else "due")
        out.append({"title": item.title, "kind": item.kind, "due": item.due.isoformat(),
                    "status": status, "reports": [r.id for r in mine]})
    return out
