"""Asking for a project's linked extract (docs/extracts.md), on the linkage role's side.

:func:`start_extract` (one transaction) checks the request — the caller is the project's
personnel or governance, the project is ``ready``, the run succeeded and linked
somebody (else 409 ``empty_extract``), the variables
(optionally a subset) are inside the approval, every node is enrolled — else a 4xx,
audited. It then records the extract ``building`` and queues an ``extract_build`` job.

Separation of duties: the extract is **built by the assembly role** (``fedlink hub
assembler``, :mod:`hub.assembly.build`), which alone holds the key the nodes seal their
attribute payloads to. This module, which the hub API imports, never opens a payload and
has no path to that key. The pure helpers below are shared with the assembler.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, Final

from sqlalchemy.orm import Session

from hub.db.models import Extract, Request
from hub.domain.dsa import DataSharingAgreement
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller, Role
from hub.errors import (
    ConfigError,
    ConflictError,
    HubError,
    InvalidInputError,
    PermissionDeniedError,
)
from hub.extracts.assembly import AgencyScope
from hub.node_client import node_url
from hub.persistence import agencies as agency_store
from hub.persistence import extracts as store
from hub.persistence import jobs
from hub.persistence import runs as run_store
from hub.services import audit, classification
from hub.services.context import HubContext
from hub.services.extract_policy import is_personnel, visible_project
from hub.services.policy import require_record_level
from hub.services.terms import load_dsa

S = RequestStatus
JOB_KIND: Final = "extract_build"
#: Claims of an extract's build job: an attempt whose assembler died (lease ran out) is
#: tried again up to this many times in all, then the extract ends ``failed``
#: (``interrupted``, :mod:`hub.services.extract_recovery`).
MAX_BUILD_ATTEMPTS: Final = 3


def agency_scopes(dsa: DataSharingAgreement,
            variables: dict[str, list[str]] | None) -> dict[str, AgencyScope]:
    """The approved scope per agency, narrowed to ``variables`` when given (never widened)."""
    scopes = {}
    for entry in dsa.variables:
        wanted = entry.variables if variables is None else variables.get(entry.agency)
        if wanted is None:
            continue
        outside = sorted(set(wanted) - set(entry.variables))
        if outside:
            raise InvalidInputError(
                f"variable(s) {', '.join(outside)} of agency {entry.agency} are outside the "
                "approval", code="variable_not_approved")
        if wanted:
            scopes[entry.agency] = AgencyScope(tuple(dict.fromkeys(wanted)), entry.first_year,
                                               entry.last_year)
    unknown = sorted(set(variables or {}) - set(dsa.agencies))
    if unknown:
        raise InvalidInputError(f"agency {', '.join(unknown)} is not part of the approval",
                                code="variable_not_approved")
    return scopes


def extract_terms(request: Request, dsa: DataSharingAgreement,
                  expires_at: dt.datetime) -> dict[str, Any]:
    return {
        "project_id": request.id, "title": dsa.title, "institution": dsa.institution,
        "allowable_uses": list(dsa.allowable_uses),
        "term_start": str(request.approved_term_start or dsa.term_start),
        "term_end": str(request.approved_term_end or dsa.term_end),
        # Always destroy: an agreement stored with the removed "return" is destroyed too
        # (docs/refresh.md, "Return of data").
        "expires_at": expires_at.isoformat(), "disposition": "destroy",
        "personnel": [{"name": p.name, "role": p.role, "institution": p.institution}
                      for p in dsa.personnel],
        "security_plan": dsa.security_plan,
    }


def start_extract(session: Session, ctx: HubContext, caller: Caller, *, project_id: str,
                  run_id: str | None = None,
                  variables: dict[str, list[str]] | None = None) -> Extract:
    """Check and record the request for an extract (``building``) and queue it for the
    assembly role (job ``extract_build``); the linkage role never opens a payload."""
    fields = {"object_type": "extract", "project": project_id}
    try:
        request = visible_project(session, caller, project_id=project_id, lock=True)
        principal = caller.principal
        if not (is_personnel(request, principal)
                or (principal is not None and principal.role == Role.GOVERNANCE)):
            raise PermissionDeniedError("only the project's personnel or governance may "
                                        "build its extract", code="not_personnel")
        # The requester type's rule (docs/governance-policy.md), whatever the project's state.
        require_record_level(ctx, request)
        # Protection by classification (docs/classification.md): outputs-only variables
        # never go into a record-level extract.
        classification.require_record_level(
            session, ctx, classification.project_variables(request, variables))
        if request.status != S.READY:
            raise ConflictError(f"project {project_id} is {request.status}; an extract is "
                                "built from a ready project", code="project_not_ready")
        run = (run_store.get_run(session, run_id=run_id) if run_id
               else run_store.latest_succeeded(session, project_id=project_id))
        if run is None or run.project_id != project_id or run.status != "succeeded":
            raise ConflictError("the project has no such succeeded linkage run",
                                code="no_succeeded_run")
        dsa = load_dsa(request)
        if not run_store.releases_anyone(session, run_id=run.id, agencies=dsa.agencies,
                                         include_unmatched=dsa.extract.include_unmatched):
            # Refused here, not queued: the assembler could only fail it (issue 19: this
            # surfaced as a 502 although nothing upstream failed).
            raise ConflictError(
                f"linkage run {run.id} linked nobody across the project's agencies"
                + ("" if dsa.extract.include_unmatched else " (the agreement releases "
                   "linked people only: extract.include_unmatched is false)")
                + "; there is nobody to put in an extract", code="empty_extract")
        scopes = agency_scopes(dsa, variables)
        for agency in scopes:
            node_target(session, ctx, agency)
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="extract.refused", **fields)
    expires_at = extract_expiry(request, dsa)
    extract_id = f"ext-{secrets.token_hex(8)}"
    extract = store.create_extract(session, values={
        "id": extract_id, "project_id": project_id, "run_id": run.id, "status": "building",
        "requested_by": caller.actor, "created_at": ctx.now(), "expires_at": expires_at,
        "formats": list(dsa.extract.formats), "include_unmatched": dsa.extract.include_unmatched,
        "variables": {a: list(s.variables) for a, s in scopes.items()}, "tables": {},
        "persons": 0, "encryption": "researcher" if dsa.extract.recipient_public_key else "hub",
    })
    jobs.enqueue(session, kind=JOB_KIND, payload={"extract_id": extract_id},
                 project_id=project_id, max_attempts=MAX_BUILD_ATTEMPTS,
                 now=ctx.now())
    audit.record(session, ctx, caller, action="extract.requested", object_id=extract_id,
                 detail={"run_id": run.id, "agencies": sorted(scopes),
                         "variables": sum(len(s.variables) for s in scopes.values())},
                 **fields)
    session.commit()
    return extract


def extract_expiry(request: Request, dsa: DataSharingAgreement) -> dt.datetime:
    term_end = request.approved_term_end or dsa.term_end
    return dt.datetime.combine(term_end + dt.timedelta(days=1), dt.time(), dt.UTC)


def node_target(session: Session, ctx: HubContext,
                agency: str) -> tuple[str, tuple[str, str]]:
    """The agency node's URL and enrolled signing key (kid, base64), or a 409."""
    row = agency_store.get_agency(session, code=agency)
    if row is None or row.signing_kid is None or row.signing_public_key is None:
        raise ConflictError(f"agency {agency} has no enrolled node key",
                            code="agency_not_enrolled")
    try:
        url = node_url(ctx.settings, row.url)
    except ConfigError as exc:
        raise ConflictError(str(exc), code="insecure_node_url") from None
    return url, (row.signing_kid, row.signing_public_key)


def variable_catalog(session: Session, agency: str) -> dict[str, dict[str, Any]]:
    return {v.name: {"description": v.description, "type": v.type,
                     "classification": v.classification,
                     "quasi_identifier": v.quasi_identifier}
            for v in agency_store.catalog(session, agency_code=agency)}


