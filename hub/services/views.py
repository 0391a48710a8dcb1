"""JSON views of requests for API callers (what each role is shown)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.roles import Caller, Role
from hub.persistence import identity as identity_store
from hub.persistence import policy as policy_store
from hub.persistence import requests as store
from hub.services.context import HubContext
from hub.services.refresh import refresh_schedule
from hub.services.reviews import progress
from hub.services.terms import load_dsa


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def request_summary(request: Request) -> dict[str, Any]:
    dsa = load_dsa(request)
    return {
        "id": request.id, "title": request.title, "status": request.status,
        "agencies": dsa.agencies, "researcher_id": request.researcher_id,
        "round": request.round, "created_at": _iso(request.created_at),
        "submitted_at": _iso(request.submitted_at), "decided_at": _iso(request.decided_at),
    }


def request_detail(session: Session, ctx: HubContext, caller: Caller,
                   request: Request) -> dict[str, Any]:
    """Everything about one request the caller may see: the agreement, reviews, the agency
    decisions and what the approval rule still waits for."""
    researcher = identity_store.get_user(session, user_id=request.researcher_id)
    reviews = store.reviews(session, request_id=request.id)
    reviewers = identity_store.users_by_ids(session, ids={r.reviewer_id for r in reviews})
    criteria = policy_store.criteria_of(session, review_ids=[r.id for r in reviews])
    show_reviewer = caller.role in (Role.GOVERNANCE, Role.AUDITOR)
    outcome = progress(session, ctx, request) if request.round else None
    return {
        **request_summary(request),
        "researcher": {
            "id": request.researcher_id,
            "name": researcher.name if researcher else None,
            "institution": researcher.institution if researcher else None,
        },
        "agreement": request.dsa,
        "needs_edit": request.needs_edit,
        "decision_reason": request.decision_reason,
        # The denial's reason written for the public (as on the public list); the internal
        # ``decision_reason`` above is shown only to those who may see the request.
        "public_reason": request.public_reason,
        "denial_category": request.denial_category,
        "approved_term": (
            {"start": _iso(request.approved_term_start), "end": _iso(request.approved_term_end)}
            if request.approved_term_start else None
        ),
        "reviews": [
            {"round": r.round, "decision": r.decision, "reason": r.reason,
             "created_at": _iso(r.created_at),
             "reviewer": (reviewers[r.reviewer_id].name
                          if show_reviewer and r.reviewer_id in reviewers else None),
             "criteria": [{"id": c.criterion, "text": c.text, "met": c.met, "note": c.note}
                          for c in criteria[r.id]]}
            for r in reviews
        ],
        "agency_decisions": [
            {"agency": d.agency_code, "round": d.round, "decision": d.decision,
             "reason": d.reason, "terms_digest": d.terms_digest,
             "received_at": _iso(d.received_at)}
            for d in store.agency_decisions(session, request_id=request.id)
        ],
        "waiting_for": list(outcome.waiting_for) if outcome else [],
        "next_refresh_due": _iso(refresh_schedule(session, ctx, request).next_refresh_due),
    }
