"""Who may see, build and download a project's extracts (docs/extracts.md).

*Personnel* are the people the data sharing agreement names as having access. The hub
matches them to hub users by email (case-insensitive), and the researcher who owns the
request is always personnel. Only personnel with the ``researcher`` role download; a
personnel entry without an email matches nobody but the owner — the agreement must give an
email for a team member to be able to download.

Metadata (no data) is visible to personnel, governance, auditors and the stewards of the
project's agencies; anybody else gets 404, as for requests.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.roles import Caller, Principal, Role
from hub.errors import NotFoundError
from hub.persistence import requests as request_store
from hub.services.terms import in_force_dsa


def personnel_emails(request: Request) -> set[str]:
    # The agreement in force: personnel an amendment under review would add get nothing
    # until it is approved, those it would remove keep access until then (docs/amendments.md).
    return {p.email.lower() for p in in_force_dsa(request).personnel if p.email}


def is_personnel(request: Request, principal: Principal | None) -> bool:
    if principal is None or principal.kind != "user" or principal.role != Role.RESEARCHER:
        return False
    if principal.id == request.researcher_id:
        return True
    email = principal.email
    return email is not None and email.lower() in personnel_emails(request)


def may_see(request: Request, principal: Principal | None) -> bool:
    if principal is None or principal.kind != "user":
        return False
    if principal.role in (Role.GOVERNANCE, Role.AUDITOR):
        return True
    if principal.role == Role.STEWARD:
        return principal.agency in in_force_dsa(request).agencies
    return is_personnel(request, principal)


def visible_project(session: Session, caller: Caller, *, project_id: str,
                    lock: bool = False) -> Request:
    """The project if the caller may see its extracts, else 404."""
    request = request_store.get_request(session, request_id=project_id, lock=lock)
    if request is None or not may_see(request, caller.principal):
        raise NotFoundError(f"project {project_id} does not exist")
    return request
