"""What the review, project and home pages show, assembled from the hub's services.

Route handlers call these; these call the same services as the JSON API (visibility,
auditing of reads and the approval rule live there, once) and read-only persistence
functions for the catalog. A steward's view is cut down to their own agency here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.lifecycle import UNDER_REVIEW
from hub.domain.roles import Role
from hub.persistence import agencies as agency_store
from hub.persistence import requests as request_store
from hub.services import airlock, extract_access, requests, reviews
from hub.services import runs as run_service
from hub.services.context import HubContext
from hub.services.extract_policy import is_personnel
from hub.services.refresh import refresh_schedule
from hub.services.terms import agency_terms, load_dsa
from hub.services.timeline import TimelineEntry, project_timeline
from hub.services.views import request_detail
from hub.services.web_sessions import SignedIn
from hub.web import charts
from hub.web.versions import versions_section


@dataclass(frozen=True)
class QueueRow:
    id: str
    title: str
    status: str
    agencies: list[str]
    submitted_at: dt.datetime | None
    waiting_for: list[str]
    #: A steward's own agency's decision in the current round, if any.
    agency_decision: str | None = None


def _own_agency_only(me: SignedIn, items: list[str]) -> list[str]:
    """A steward sees what the rule waits for from their agency and from governance only."""
    if me.role != Role.STEWARD:
        return items
    return [w for w in items if not w.startswith("agency ")
            or w.split(" ")[1] == me.agency]


def review_queue(session: Session, ctx: HubContext, me: SignedIn, *,
                 pending_only: bool) -> list[QueueRow]:
    rows = requests.list_requests(session, ctx, me.caller)
    out = []
    for request in rows:
        if pending_only and request.status not in UNDER_REVIEW:
            continue
        waiting: list[str] = []
        if request.status in UNDER_REVIEW:
            waiting = _own_agency_only(
                me, list(reviews.progress(session, ctx, request).waiting_for))
        mine = None
        if me.role == Role.STEWARD:
            votes = [d.decision for d in request_store.agency_decisions(
                session, request_id=request.id, round_=request.round)
                if d.agency_code == me.agency]
            mine = votes[-1] if votes else None
        out.append(QueueRow(id=request.id, title=request.title, status=request.status,
                            agencies=load_dsa(request).agencies,
                            submitted_at=request.submitted_at, waiting_for=waiting,
                            agency_decision=mine))
    return out


def describe_condition(condition: Any) -> str:
    """A cohort condition in words: ``grade = 3``, ``grade is one of 3, 4``, ``3 ≤ grade``."""
    if condition.kind == "equals":
        return f"{condition.variable} = {condition.value}"
    if condition.kind == "in":
        return f"{condition.variable} is one of {', '.join(map(str, condition.values))}"
    low = f"{condition.minimum} ≤ " if condition.minimum is not None else ""
    high = f" ≤ {condition.maximum}" if condition.maximum is not None else ""
    return f"{low}{condition.variable}{high}"


@dataclass
class AgencyPart:
    code: str
    name: str
    first_year: int
    last_year: int
    variables: list[dict[str, str]]
    cohort: list[str]
    terms_digest: str = ""
    contacts: list[dict[str, str]] = field(default_factory=list)


def _agency_parts(session: Session, request: Request, only: str | None,
                  with_digest: bool) -> list[AgencyPart]:
    dsa = load_dsa(request)
    parts = []
    for entry in dsa.variables:
        if only is not None and entry.agency != only:
            continue
        known = {v.name: v for v in agency_store.catalog(session, agency_code=entry.agency)}
        agency = agency_store.get_agency(session, code=entry.agency)
        parts.append(AgencyPart(
            code=entry.agency, name=agency.name if agency else entry.agency,
            first_year=entry.first_year, last_year=entry.last_year,
            variables=[{
                "name": name,
                "classification": known[name].classification if name in known
                else "not in the catalog",
                "description": known[name].description if name in known else "",
                "type": known[name].type if name in known else "",
            } for name in entry.variables],
            cohort=[describe_condition(c) for c in entry.cohort.conditions],
            terms_digest=agency_terms(request, entry.agency)["terms_digest"]
            if with_digest else "",
            contacts=[c.model_dump() for c in dsa.agency_contacts if c.agency == entry.agency],
        ))
    return parts


def _outcome_reason(request: Request, steward_agency: str | None) -> str:
    """Why the request was decided; a steward is not shown another agency's reason."""
    reason = request.decision_reason or ""
    if (steward_agency is not None and request.denial_category == "agency"
            and not reason.startswith(f"{steward_agency}: ")):
        return "denied by another agency whose data was asked for"
    return reason


def request_page(session: Session, ctx: HubContext, me: SignedIn, *,
                 request_id: str) -> dict[str, Any]:
    """Everything the request page shows to ``me`` (404 if ``me`` may not see it)."""
    request = requests.get_request(session, ctx, me.caller, request_id=request_id)
    detail = request_detail(session, ctx, me.caller, request)
    steward_agency = me.agency if me.role == Role.STEWARD else None
    assert me.caller.principal is not None
    reviewed = any(r.reviewer_id == me.caller.principal.id for r in request_store.reviews(
        session, request_id=request.id, round_=request.round))
    return {
        "request": request,
        "detail": detail,
        "dsa": load_dsa(request),
        "agencies": _agency_parts(session, request, steward_agency,
                                  with_digest=steward_agency is not None),
        "agency_decisions": [d for d in detail["agency_decisions"]
                             if steward_agency is None or d["agency"] == steward_agency],
        "reviews": detail["reviews"],
        "waiting_for": _own_agency_only(me, detail["waiting_for"]),
        "outcome_reason": _outcome_reason(request, steward_agency),
        "under_review": request.status in UNDER_REVIEW,
        "already_reviewed": reviewed,
        "can_review": (me.role == Role.GOVERNANCE and request.status in UNDER_REVIEW
                       and not reviewed),
        "steward_agency": steward_agency,
        "versions": versions_section(session, request),  # docs/amendments.md
    }


def _countdown(until: dt.datetime, now: dt.datetime) -> str:
    """``3 days 4 hours`` until ``until``, or ``""`` once it has passed."""
    left = until - now
    if left.total_seconds() <= 0:
        return ""
    days, hours = left.days, left.seconds // 3600
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} hour{'s' if hours != 1 else ''}"
    minutes = (left.seconds % 3600) // 60
    return f"{hours} hour{'s' if hours != 1 else ''} {minutes} minute{'s' if minutes != 1 else ''}"


def _runs(session: Session, ctx: HubContext, me: SignedIn,
          request: Request) -> tuple[list[Any], Any]:
    """The project's runs (newest first) and the newest succeeded one with a report, read
    through the runs service so both reads are audited as in the API."""
    rows = run_service.list_runs(session, ctx, me.caller, request_id=request.id)
    latest = next((r for r in rows if r.status == "succeeded" and r.report), None)
    if latest is not None:
        latest = run_service.get_run(session, ctx, me.caller, request_id=request.id,
                                     run_id=latest.id)
    return rows, latest


def project_page(session: Session, ctx: HubContext, me: SignedIn, *,
                 request_id: str) -> dict[str, Any]:
    """A project's page: the request, its timeline from the audit chain, its decisions, the
    approved term, and its linkage runs, extracts and outputs as the hub holds them (404
    if ``me`` may not see it)."""
    request = requests.get_request(session, ctx, me.caller, request_id=request_id)
    detail = request_detail(session, ctx, me.caller, request)
    timeline: list[TimelineEntry] = project_timeline(session, request_id=request.id)
    now = ctx.now()
    days_left = None
    if request.approved_term_end is not None:
        days_left = (request.approved_term_end - now.date()).days
    runs, latest = _runs(session, ctx, me, request)
    extracts = [{"row": e, "countdown": _countdown(e.expires_at, now)
                 if e.status == "available" else ""}
                for e in extract_access.list_extracts(session, ctx, me.caller)
                if e.project_id == request.id]
    outputs = [o for o in airlock.list_outputs(session, ctx, me.caller)
               if o.project_id == request.id]
    report = latest.report if latest is not None else None
    return {
        "request": request,
        "detail": detail,
        "dsa": load_dsa(request),
        "agencies": _agency_parts(session, request, None, with_digest=False),
        "timeline": timeline,
        "days_left": days_left,
        "runs": runs,
        "latest_run": latest,
        "refresh": refresh_schedule(session, ctx, request),  # docs/refresh.md
        "summary": (report or {}).get("summary") or {},
        "histogram": charts.weight_histogram(report) if report else None,
        "match_rates": charts.match_rates(report) if report else [],
        "extracts": extracts,
        "may_download": is_personnel(request, me.caller.principal),
        "outputs": outputs,
        "versions": versions_section(session, request),  # docs/amendments.md
    }


def my_projects(session: Session, ctx: HubContext, me: SignedIn) -> list[Request]:
    return requests.list_requests(session, ctx, me.caller)
