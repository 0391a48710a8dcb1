"""Conflict-of-interest declarations on a request (governance; hub.services.conflicts)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import ContextDep, GovernanceCaller, SessionDep
from hub.api.responses import USER_CHANGE, USER_OBJECT
from hub.api.schemas import ConflictDeclare
from hub.api.schemas_views import ConflictsView, Declaration, returns
from hub.services import conflicts

router = APIRouter(prefix="/v1", tags=["requests"])


@router.post("/requests/{request_id}/conflicts", responses=USER_CHANGE, **returns(Declaration),
             summary="Declare your own conflict of interest, or confirm you have none "
                     "[governance]")
def declare(request_id: str, body: ConflictDeclare, caller: GovernanceCaller,
            session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Declare that you have a conflict of interest in this request (you then take no part in
    its review) or confirm that you have none."""
    return conflicts.declare(session, ctx, caller, request_id=request_id,
                             conflicted=body.conflicted, reason=body.reason)


@router.get("/requests/{request_id}/conflicts", responses=USER_OBJECT,
            **returns(ConflictsView),
            summary="Declarations, and the members the personnel list names [governance]")
def list_declarations(request_id: str, caller: GovernanceCaller,
                      session: SessionDep) -> dict[str, Any]:
    """Every member's declaration, and the governance members the request's personnel list
    names (held back until they declare)."""
    return conflicts.conflicts_view(session, caller, request_id=request_id)
