"""The audit log page (auditors): filters, paging both ways, CSV and JSON Lines export
and the chain's status.

Searching and exporting go through :mod:`hub.services.audit_log` (so both are audited, as
in the API); the chain status is the hub's own check of the whole chain and its signed
checkpoints (:func:`hub.services.audit_log.verify_database`). It is a convenience for the
page: the independent check remains ``fedlink audit verify --hub`` on the auditor's machine.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from hub.api.deps import ContextDep, SessionDep
from hub.errors import AuditChainError
from hub.services import audit_log
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
    """The filter form as entered, the service filters it maps to, the page cursor, and
    field errors."""

    values: dict[str, str]
    filters: dict[str, Any]
    errors: dict[str, str]
    after_seq: int
    before_seq: int | None


def _cursor(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


def parse_query(params: Any) -> AuditQuery:
    """Read the form. The dates are whole UTC days and both ends are inclusive ("from
    2026-12-01 through 2026-12-06"); the service takes a half-open range, so "through"
    becomes ``until`` = the next day's midnight, the API's and the CLI's exclusive bound."""
    values = {name: str(params.get(name, "")).strip() for name in
              (*_TEXT_FILTERS, "since", "through", "after_seq", "before_seq")}
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {}
    for name, limit in _TEXT_FILTERS.items():
        if len(values[name]) > limit:
            errors[name] = f"At most {limit} characters."
        filters[name] = values[name] or None
    for name, bound, shift in (("since", "since", 0), ("through", "until", 1)):
        filters[bound] = None
        if values[name]:
            try:
                day = dt.date.fromisoformat(values[name]) + dt.timedelta(days=shift)
            except (ValueError, OverflowError):
                errors[name] = "Enter a date as YYYY-MM-DD, for example 2026-03-01."
            else:
                filters[bound] = day.isoformat()
    if filters["since"] and filters["until"] and filters["since"] >= filters["until"]:
        errors["through"] = "The end date must not be before the start date."
    if str(params.get("until", "")).strip():
        # Links from before the field was renamed: their "until" day was inclusive, the
        # API's is exclusive; guessing either could widen an auditor's result silently.
        errors["through"] = ("This link uses the old “until” date; choose the last day "
                             "again under “Through”.")
    cursors = {name: _cursor(values[name]) for name in ("after_seq", "before_seq")}
    if any(values[name] and cursors[name] is None for name in cursors) or (
            cursors["after_seq"] and cursors["before_seq"]):
        errors["after_seq"] = "The page position is not valid; start from the first page."
    return AuditQuery(values=values, filters=filters, errors=errors,
                      after_seq=cursors["after_seq"] or 0, before_seq=cursors["before_seq"])


def _with_details(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event with its detail also as indented JSON, shown when its ``<details>``
    element is opened (the summary is one line, so a row stays one line high)."""
    return [{**e, "detail_json": json.dumps(e["detail"], indent=2, sort_keys=True,
                                            ensure_ascii=False)} for e in events]


def _chain_status(session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    checkpoints = audit_log.checkpoints(session)
    try:
        report = audit_log.verify_database(session, ctx)
    except AuditChainError as exc:
        return {"intact": False, "first_broken": exc.seq, "detail": str(exc)}
    return {"intact": True, "events": report.events, "head_hash": report.head_hash,
            "checkpoints": report.checkpoints,
            "latest_checkpoint": checkpoints[-1] if checkpoints else None}


_NO_RESULT: dict[str, Any] = {"events": [], "total": 0, "position": 0,
                              "next_after_seq": None, "prev_before_seq": None}


def _render(request: Request, session: SessionDep, ctx: ContextDep, query: AuditQuery,
            result: dict[str, Any]) -> HTMLResponse:
    filter_qs = urlencode({k: v for k, v in query.values.items()
                           if v and k not in ("after_seq", "before_seq")})
    return render(request, "audit.html", status=422 if query.errors else 200,
                  query=query, result={**result, "events": _with_details(result["events"])},
                  chain=_chain_status(session, ctx), filter_qs=filter_qs,
                  known_actions=KNOWN_ACTIONS, page_size=PAGE_SIZE)


@router.get("")
def audit_page(request: Request, me: AuditPage, session: SessionDep,
               ctx: ContextDep) -> HTMLResponse:
    query = parse_query(request.query_params)
    result = _NO_RESULT
    if not query.errors:
        result = audit_log.search(session, ctx, me.caller, filters=query.filters,
                                  after_seq=query.after_seq, before_seq=query.before_seq,
                                  limit=PAGE_SIZE)
    return _render(request, session, ctx, query, result)


def _export(request: Request, me: AuditPage, session: SessionDep, ctx: ContextDep,
            fmt: str) -> Response:
    """Every event matching the page's filters (not only the page shown), through the
    API's export (:func:`hub.services.audit_log.export`); audited as ``audit.exported``."""
    query = parse_query(request.query_params)
    if query.errors:
        return _render(request, session, ctx, query, _NO_RESULT)
    body = list(audit_log.export(session, ctx, me.caller, filters=query.filters, fmt=fmt))
    return StreamingResponse(iter(body), media_type=audit_log.EXPORT_MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{audit_log.export_filename(fmt)}"'})


@router.get("/export.csv")
def export_csv(request: Request, me: AuditPage, session: SessionDep,
               ctx: ContextDep) -> Response:
    return _export(request, me, session, ctx, "csv")


@router.get("/export.jsonl")
def export_jsonl(request: Request, me: AuditPage, session: SessionDep,
                 ctx: ContextDep) -> Response:
    return _export(request, me, session, ctx, "jsonl")
