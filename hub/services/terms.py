"""The terms each agency's steward is asked to approve, and their digest.

The field set and the digest rule are fixed by docs/protocol.md: the digest is
:func:`protocol.wire.terms_digest` of the terms without ``status`` and ``terms_digest``.
Terms are per agency (that agency's variables, years and cohort), so a change to what one
agency is asked for invalidates only that agency's approval digest.
"""

from __future__ import annotations

from typing import Any

from hub.db.models import Request
from hub.domain.dsa import DataSharingAgreement
from hub.errors import NotFoundError
from protocol.wire import terms_digest


def load_dsa(request: Request) -> DataSharingAgreement:
    return DataSharingAgreement.model_validate(request.dsa)


def agency_terms(request: Request, agency: str) -> dict[str, Any]:
    """The terms for ``agency`` with ``status`` and ``terms_digest`` (as served to nodes)."""
    dsa = load_dsa(request)
    entry = dsa.for_agency(agency)
    if entry is None:
        raise NotFoundError(f"request {request.id} asks nothing of agency {agency}")
    terms: dict[str, Any] = {
        "project_id": request.id,
        "agency": agency,
        "title": dsa.title,
        "public_summary": dsa.public_summary,
        "research_questions": list(dsa.research_questions),
        "variables": list(entry.variables),
        "years": entry.years,
        "cohort": entry.cohort.model_dump(mode="json"),
        "term_start": dsa.term_start.isoformat(),
        "term_end": dsa.term_end.isoformat(),
        "matching_authorised": dsa.matching_authorised,
        "allowable_uses": list(dsa.allowable_uses),
        "personnel": [p.model_dump(mode="json") for p in dsa.personnel],
        "disposition": dsa.disposition,
    }
    return {**terms, "status": request.status, "terms_digest": terms_digest(terms)}


def current_digests(request: Request) -> dict[str, str]:
    dsa = load_dsa(request)
    return {a: agency_terms(request, a)["terms_digest"] for a in dsa.agencies}
