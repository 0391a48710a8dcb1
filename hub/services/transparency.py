"""The public transparency list: what the public may know about projects, and no more.

Shown: approved (and later closed or revoked) projects — id, title, public summary,
research questions, the PI's institution, agencies, the *categories* (classifications) and
number of variables per agency, term, status and released output tables; every denied
request — title, institution, agencies, who denied (agency or governance) and the reason
written for the public (``public_reason``; the internal reason is never shown: it may name
people or agency internals); counts by status and
the median number of days from first submission to decision. Never shown: names or emails
of researchers, personnel, reviewers or stewards, tokens, reviews' text, drafts or anything
under review. The contact is the hub setting ``public_contact`` and, when the operator named
one, the person who answers the public's questions about data and privacy (``public_contact_name``,
``_title``, ``_email``: the DQC asks for a named staff member, not a generic address).
The list is paged (``limit``, ``offset``: :data:`PAGE_DEFAULT`, :data:`PAGE_MAX`); the
statistics cover every request on every page.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from hub.db.engine import read_session
from hub.db.models import Request
from hub.domain.lifecycle import APPROVED_ONCE, RequestStatus
from hub.persistence import agencies as agency_store
from hub.persistence import requests as store
from hub.services.agenda import agenda_questions
from hub.services.airlock import released_outputs
from hub.services.context import HubContext
from hub.services.publications import publications_of, released_findings
from hub.services.terms import in_force_dsa

S = RequestStatus


def _agencies(session: Session, request: Request,
              seen: dict[str, tuple[Any, dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """Per agency of ``request``: categories and number of variables; ``seen`` caches each
    agency's row and catalog for the length of one page."""
    dsa = in_force_dsa(request)  # never an amendment under review
    seen = {} if seen is None else seen
    out = []
    for entry in dsa.variables:
        if entry.agency not in seen:
            seen[entry.agency] = (
                agency_store.get_agency(session, code=entry.agency),
                {v.name: v for v in agency_store.catalog(session, agency_code=entry.agency)})
        agency, known = seen[entry.agency]
        out.append({
            "agency": entry.agency,
            "name": agency.name if agency else entry.agency,
            "variable_categories": sorted(
                {known[n].classification for n in entry.variables if n in known}),
            "variables": len(entry.variables),
            "years": [entry.first_year, entry.last_year],
        })
    return out


def contact_person(ctx: HubContext) -> dict[str, str] | None:
    settings = ctx.settings
    if not settings.public_contact_name:
        return None
    return {"name": settings.public_contact_name, "title": settings.public_contact_title,
            "email": settings.public_contact_email}


#: Projects on one page of the public list: the default and the most a caller may ask.
PAGE_DEFAULT = 100
PAGE_MAX = 500
#: The furthest offset accepted (far past any hub's list; keeps SQL integers in range).
OFFSET_MAX = 1_000_000


def cached_public_page(ctx: HubContext, *, limit: int, offset: int) -> dict[str, Any] | None:
    """This process's kept answer for the page, if still fresh (no I/O: for the event
    loop); ``None`` = compute it with :func:`public_page`."""
    cached: dict[str, Any] | None = ctx.public_cache.get(("projects", limit, offset))
    return cached


def public_page(ctx: HubContext, *, limit: int, offset: int,
                next_path: Callable[[int], str]) -> dict[str, Any]:
    """:func:`public_projects` in a reader session of its own, with ``page.next`` (the
    path of the following page, from ``next_path(offset)``), kept in the process's public
    cache (:mod:`hub.services.public_cache`)."""
    generation = ctx.public_cache.generation
    with read_session(ctx.session_factory) as session:
        body = public_projects(session, ctx, limit=limit, offset=offset)
    following = body["page"]["next_offset"]
    body["page"]["next"] = None if following is None else next_path(following)
    ctx.public_cache.put(("projects", limit, offset), body, generation=generation)
    return body


def public_projects(session: Session, ctx: HubContext, *, limit: int = PAGE_DEFAULT,
                    offset: int = 0) -> dict[str, Any]:
    """One page of the public list: at most ``limit`` projects and denied requests (oldest
    first) from ``offset``, ``page.next_offset`` (``None`` on the last page), and the
    statistics over every request."""
    # Filtered and paged in SQL (issue 20: this anonymous page parsed every submitted
    # agreement on every call): only the requests on the page are loaded — approved once,
    # or denied — and the statistics are one GROUP BY and two timestamp columns (``status``
    # is indexed). One row more than the page says whether one follows.
    decided = [*APPROVED_ONCE, S.DENIED]
    rows = store.public_requests(session, statuses=decided, limit=limit + 1, offset=offset)
    more, rows = len(rows) > limit, rows[:limit]
    counts = store.submitted_counts(session, exclude_statuses=[S.DRAFT])
    durations = [(decided_at - first).total_seconds() / 86_400
                 for first, decided_at in store.decision_times(session, statuses=decided)]
    approved, denied = [], []
    seen: dict[str, tuple[Any, dict[str, Any]]] = {}
    questions = agenda_questions(session)
    for request in rows:
        dsa = in_force_dsa(request)  # never an amendment under review
        if request.status in APPROVED_ONCE:
            approved.append({
                "id": request.id, "title": dsa.title, "institution": dsa.institution,
                "public_summary": dsa.public_summary,
                "research_questions": list(dsa.research_questions),
                "status": request.status, "agencies": _agencies(session, request, seen),
                "term_start": str(request.approved_term_start),
                "term_end": str(request.approved_term_end),
                "approved_at": request.decided_at.date().isoformat()
                if request.decided_at else None,
                "matching_authorised": dsa.matching_authorised,
                # Output tables the agencies' stewards released (hub.services.airlock).
                "released_outputs": released_outputs(session, project_id=request.id),
                # Reports released after the agencies' review window, and the project's
                # publications (hub.services.publications; never a report in review).
                "released_findings": released_findings(session, project_id=request.id),
                "publications": publications_of(session, project_id=request.id),
                # Governance policy (docs/governance-policy.md): the agenda questions it
                # answers, and its pre-analysis plan when the agreement publishes it
                # (approved projects only: never one under review).
                "agenda_items": [{"id": i, "question": questions[i]}
                                 for i in dsa.agenda_items if i in questions],
                "pre_analysis_plan": dsa.pre_analysis_plan.text
                if dsa.pre_analysis_plan and dsa.pre_analysis_plan.publish else None,
            })
        elif request.status == S.DENIED:
            denied.append({
                "id": request.id, "title": dsa.title, "institution": dsa.institution,
                "agencies": [a["agency"] for a in _agencies(session, request, seen)],
                "denied_by": request.denial_category,
                "denied_at": request.decided_at.date().isoformat()
                if request.decided_at else None,
                # Written for the public by the member who denied it (an agency's denial:
                # which agency declined); ``decision_reason`` stays internal.
                "public_reason": request.public_reason,
            })
    return {
        "hub": ctx.settings.hub_name,
        "contact": ctx.settings.public_contact,
        "contact_person": contact_person(ctx),
        "approved_projects": approved,
        "denied_requests": denied,
        "page": {"limit": limit, "offset": offset,
                 "next_offset": offset + limit if more else None},
        "statistics": {
            "requests_submitted": sum(counts.values()),
            "by_status": dict(sorted(counts.items())),
            "decisions": len(durations),
            "median_days_to_decision": round(statistics.median(durations), 1)
            if durations else None,
        },
    }
