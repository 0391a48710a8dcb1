"""The audit log page (auditors): filters, paging, CSV export and the chain's status.

Searching and exporting go through :mod:`hub.services.audit_log` (so both are audited, as
in the API); the chain status is the hub's own check of the whole chain and its signed
checkpoints (:func:`hub.services.audit_log.verify_database`). It is a convenience for the
page: the independent check remains ``fedlink audit verify --hub`` on the auditor's machine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from hub.api.deps import ContextDep, SessionDep
from hub.errors import AuditChainError
from hub.services import audit_log
from hub.services.audit import format_ts
from hub.web.deps import AuditPage
from hub.web.pages import PageRoute, render

router = APIRouter(prefix="/audit", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50
_TEXT_FILTERS = {"actor": 200, "project": 32, "agency": 32, "action": 64}
#: Offered as suggestions for the action filter; ``request.`` matches every request action.
KNOWN_ACTIONS = (
    "request.", "request.created", "request.submitted", "request.reviewed",
    "request.agency_decision", "request.approved", "request.denied",
    "request.changes_requested", "request.viewed", "auth.failed", "auth.forbidden",
    "auth.csrf_refused", "session.started", "session.ended", "audit.searched",
    "audit.exported", "user.created", "token.issued", "token.revoked",
    "invitation.", "user.approved", "user.activated", "request.conflict_declared",
)


@dataclass
class AuditQuery:
    """The filter form as entered, the service filters it maps to, and field errors."""

    values: dict[str, str]
    filters: dict[str, Any]
    errors: dict[str, str]
    after_seq: int


def _day(text: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)


def parse_query(params: Any) -> AuditQuery:
    values = {name: str(params.get(name, "")).strip() for name in
              (*_TEXT_FILTERS, "since", "until", "after_seq")}
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {}
    for name, limit in _TEXT_FILTERS.items():
        if len(values[name]) > limit:
            errors[name] = f"At most {limit} characters."
        filters[name] = values[name] or None
    # Dates are whole UTC days: "since" from its start, "until" to its end (inclusive).
    for name, shift in (("since", 0), ("until", 1)):
        filters[name] = None
        if values[name]:
            try:
                filters[name] = format_ts(_day(values[name]) + dt.timedelta(days=shift))
            except ValueError:
                errors[name] = "Enter a date as YYYY-MM-DD, for example 2026-03-01."
    if filters["since"] and filters["until"] and filters["since"] >= filters["until"]:
        errors["until"] = "The end date must not be before the start date."
    after_seq = 0
    if values["after_seq"]:
        if values["after_seq"].isdigit() and len(values["after_seq"]) < 12:
            after_seq = int(values["after_seq"])
        else:
            errors["after_seq"] = "The page position is not valid; start from the first page."
    return AuditQuery(values=values, filters=filters, errors=errors, after_seq=after_seq)


def _chain_status(session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    checkpoints = audit_log.checkpoints(session)
    try:
        report = audit_log.verify_database(session, ctx)
    except AuditChainError as exc:
        return {"intact": False, "first_broken": exc.seq, "detail": str(exc)}
    return {"intact": True, "events": report.events, "head_hash": report.head_hash,
            "checkpoints": report.checkpoints,
            "latest_checkpoint": checkpoints[-1] if checkpoints else None}


@router.get("")
def audit_page(request: Request, me: AuditPage, session: SessionDep,
               ctx: ContextDep) -> HTMLResponse:
    query = parse_query(request.query_params)
    result: dict[str, Any] = {"events": [], "total": 0, "next_after_seq": None}
    if not query.errors:
        result = audit_log.search(session, ctx, me.caller, filters=query.filters,
                                  after_seq=query.after_seq, limit=PAGE_SIZE)
    filter_qs = urlencode({k: v for k, v in query.values.items() if v and k != "after_seq"})
    return render(request, "audit.html", status=422 if query.errors else 200,
                  query=query, result=result, chain=_chain_status(session, ctx),
                  filter_qs=filter_qs, known_actions=KNOWN_ACTIONS, page_size=PAGE_SIZE)


@router.get("/export.csv")
def export_csv(request: Request, me: AuditPage, session: SessionDep,
               ctx: ContextDep) -> Response:
    query = parse_query(request.query_params)
    if query.errors:
        return render(request, "audit.html", status=422, query=query,
                      result={"events": [], "total": 0, "next_after_seq": None},
                      chain=_chain_status(session, ctx), filter_qs="",
                      known_actions=KNOWN_ACTIONS, page_size=PAGE_SIZE)
    body = list(audit_log.export(session, ctx, me.caller, filters=query.filters, fmt="csv"))
    return StreamingResponse(iter(body), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="hub-audit.csv"'})
