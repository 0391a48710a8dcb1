"""The public transparency list: what the public may know about projects, and no more.

Shown: approved (and later closed or revoked) projects — id, title, public summary,
research questions, the PI's institution, agencies, the *categories* (classifications) and
number of variables per agency, term, status and released output tables; denied requests
that had IRB approval — title, institution, agencies and who denied (agency or governance),
without the free-text reason (it may name people or agency internals); counts by status and
the median number of days from first submission to decision. Never shown: names or emails
of researchers, personnel, reviewers or stewards, tokens, reviews' text, drafts or anything
under review. The contact is the hub setting ``public_contact`` and, when the operator named
one, the person who answers the public's questions about data and privacy (``public_contact_name``,
``_title``, ``_email``: the DQC asks for a named staff member, not a generic address).
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.lifecycle import APPROVED_ONCE, RequestStatus
from hub.persistence import agencies as agency_store
from hub.persistence import requests as store
from hub.services.airlock import released_outputs
from hub.services.context import HubContext
from hub.services.terms import load_dsa

S = RequestStatus


def _agencies(session: Session, request: Request) -> list[dict[str, Any]]:
    dsa = load_dsa(request)
    out = []
    for entry in dsa.variables:
        known = {v.name: v for v in agency_store.catalog(session, agency_code=entry.agency)}
        agency = agency_store.get_agency(session, code=entry.agency)
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


def public_projects(session: Session, ctx: HubContext) -> dict[str, Any]:
    rows = [r for r in store.list_requests(session, exclude_statuses=[S.DRAFT])
            if r.first_submitted_at is not None]
    approved, denied, durations = [], [], []
    for request in rows:
        dsa = load_dsa(request)
        if request.decided_at and request.first_submitted_at and request.status in (
            *APPROVED_ONCE, S.DENIED,
        ):
            durations.append((request.decided_at - request.first_submitted_at).total_seconds()
                             / 86_400)
        if request.status in APPROVED_ONCE:
            approved.append({
                "id": request.id, "title": dsa.title, "institution": dsa.institution,
                "public_summary": dsa.public_summary,
                "research_questions": list(dsa.research_questions),
                "status": request.status, "agencies": _agencies(session, request),
                "term_start": str(request.approved_term_start),
                "term_end": str(request.approved_term_end),
                "approved_at": request.decided_at.date().isoformat()
                if request.decided_at else None,
                "matching_authorised": dsa.matching_authorised,
                # Output tables the agencies' stewards released (hub.services.airlock).
                "released_outputs": released_outputs(session, project_id=request.id),
            })
        elif request.status == S.DENIED and dsa.irb.status in ("approved", "exempt"):
            denied.append({
                "id": request.id, "title": dsa.title, "institution": dsa.institution,
                "agencies": [a["agency"] for a in _agencies(session, request)],
                "denied_by": request.denial_category,
                "denied_at": request.decided_at.date().isoformat()
                if request.decided_at else None,
            })
    counts = Counter(str(r.status) for r in rows)
    return {
        "hub": ctx.settings.hub_name,
        "contact": ctx.settings.public_contact,
        "contact_person": contact_person(ctx),
        "approved_projects": approved,
        "denied_irb_approved_requests": denied,
        "statistics": {
            "requests_submitted": len(rows),
            "by_status": dict(sorted(counts.items())),
            "decisions": len(durations),
            "median_days_to_decision": round(statistics.median(durations), 1)
            if durations else None,
        },
    }
