"""Stewards' decisions on an extract that disclosure control held (policy ``block``).

Every agency whose data is in the extract decides once, through its steward (a hub user
bound to the agency): ``release`` or ``withhold`` with a reason. One ``withhold`` destroys
the extract (reason ``withheld``); when every agency released it, it becomes
``available``. Decisions are audited; only ``held`` extracts take them (409 otherwise).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.db.models import Extract
from hub.domain.roles import Caller, Role
from hub.errors import ConflictError, HubError, InvalidInputError, PermissionDeniedError
from hub.persistence import extracts as store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.extract_access import visible_extract
from hub.services.extract_destruction import destroy_extract

DECISIONS = ("release", "withhold")


def decide_held(session: Session, ctx: HubContext, caller: Caller, *, extract_id: str,
                decision: str, reason: str = "") -> Extract:
    principal = caller.principal
    fields = {"object_type": "extract", "object_id": extract_id}
    try:
        extract, _ = visible_extract(session, caller, extract_id=extract_id, lock=True)
        fields["project"] = extract.project_id
        agency = principal.agency if principal is not None else None
        if principal is None or principal.role != Role.STEWARD or agency not in \
                extract.variables:
            raise PermissionDeniedError("only a steward of an agency whose data is in the "
                                        "extract decides on it", code="not_steward")
        if decision not in DECISIONS:
            raise InvalidInputError(f"decision must be one of {', '.join(DECISIONS)}")
        if decision == "withhold" and not reason.strip():
            raise InvalidInputError("withholding an extract needs a reason")
        if extract.status != "held":
            raise ConflictError(f"the extract is {extract.status}, not held", code="not_held")
        if any(d.agency_code == agency for d in store.decisions(session, extract_id=extract_id)):
            raise ConflictError(f"agency {agency} already decided", code="already_decided")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="extract.decision_refused", **fields)
    assert principal is not None and principal.id is not None and agency is not None
    store.add_decision(session, extract_id=extract_id, agency_code=agency,
                       steward_id=principal.id, decision=decision, reason=reason, now=ctx.now())
    audit.record(session, ctx, caller, action="extract.steward_decision", agency=agency,
                 detail={"decision": decision}, **fields)
    released = {d.agency_code for d in store.decisions(session, extract_id=extract_id)
                if d.decision == "release"}
    if decision == "release" and released >= set(extract.variables):
        extract.status = "available"
        audit.record(session, ctx, caller, action="extract.released", **fields,
                     detail={"agencies": sorted(released)})
    session.commit()
    if decision == "withhold":
        destroy_extract(ctx, caller, extract_id=extract_id, reason="withheld",
                        detail={"withheld_by": agency})
    result = store.get_extract(session, extract_id=extract_id)
    assert result is not None
    return result
