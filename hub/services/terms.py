"""The terms each agency's steward is asked to approve, and their digest.

The field set and the digest rule are fixed by docs/protocol.md: the digest is
:func:`protocol.wire.terms_digest` of the terms without ``status`` and ``terms_digest``.
Terms are per agency (that agency's variables, years and cohort), so a change to what one
agency is asked for invalidates only that agency's approval digest.
"""

from __future__ import annotations

from typing import Any

from hub.db.models import Request
from hub.domain.dsa import DataSharingAgreement, ExtractOptions
from hub.errors import NotFoundError
from protocol.project import ProjectTerms, project_terms
from protocol.wire import terms_digest


def load_dsa(request: Request) -> DataSharingAgreement:
    return DataSharingAgreement.model_validate(request.dsa)


def in_force_dsa(request: Request) -> DataSharingAgreement:
    """The agreement in force. That is ``request.dsa`` except while an amendment is under
    review (status ``amending``), when ``request.dsa`` is the proposal and the version in
    force is its :class:`~hub.db.models.AgreementVersion` row (docs/amendments.md): who may
    download, what the public sees, read it here, never from the proposal."""
    if request.status != "amending":
        return load_dsa(request)
    from sqlalchemy.orm import object_session

    from hub.persistence.versions import get_version

    session = object_session(request)
    row = (get_version(session, request_id=request.id, version=request.version)
           if session is not None else None)
    if row is None:
        # Fail closed: without its in-force text nobody is granted anything on a proposal.
        raise RuntimeError(f"project {request.id} is amending but its version "
                           f"{request.version} cannot be read")
    return DataSharingAgreement.model_validate(row.dsa)


def extract_terms_options_of(options: ExtractOptions) -> dict[str, Any]:
    """The ``extract`` entry of the terms (:class:`protocol.wire.ExtractTermsOptions`)."""
    return {"include_unmatched": options.include_unmatched,
            "k_anonymity": options.k_anonymity,
            "quasi_identifier_policy": options.quasi_identifier_policy}


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
        # How the extract is prepared is part of what the steward signs (issue 13): a hub
        # that changes k, unmatched handling or the policy changes the digest, and the node
        # refuses extract requests declaring other options (docs/extracts.md).
        "extract": extract_terms_options_of(dsa.extract),
    }
    return {**terms, "status": request.status, "terms_digest": terms_digest(terms)}


def current_digests(request: Request) -> dict[str, str]:
    dsa = load_dsa(request)
    return {a: agency_terms(request, a)["terms_digest"] for a in dsa.agencies}


def request_project_terms(request: Request) -> ProjectTerms:
    """The project-wide terms (every agency's terms digest and the term): what nodes bind
    the project keys to and what governance members sign (protocol.project)."""
    dsa = load_dsa(request)
    return project_terms(request.id, dsa.term_start, dsa.term_end, current_digests(request))
