"""A project's scheduled refreshes: when the next one is due (docs/refresh.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from hub.api.deps import ContextDep, RequestReaderCaller, SessionDep
from hub.api.responses import USER_OBJECT
from hub.api.schemas_views import Time, View, returns
from hub.services import refresh

router = APIRouter(prefix="/v1/requests/{request_id}/refresh", tags=["linkage runs"])


class RefreshScheduleView(View):
    """When the project's next scheduled refresh run is due, or why none is."""

    project_id: str = Field(description="The request (project) id",
                            examples=["prj-0e14fc18607c"])
    refresh_frequency: str = Field(description="The agreement's refresh_frequency: once, "
                                   "annual, semiannual, quarterly or monthly",
                                   examples=["annual"])
    last_refreshed_at: Time | None = Field(description="When the newest succeeded linkage "
                                           "run ended (ISO 8601, UTC); null before the "
                                           "first")
    next_refresh_due: Time | None = Field(description="When the hub's sweep starts the "
                                          "next refresh run (ISO 8601, UTC; the interval "
                                          "after the last succeeded run); null when none "
                                          "will start (`note` says why)")
    note: str | None = Field(description="Why no refresh is scheduled, or why a due one has "
                             "not started (a run in progress, the project being amended); "
                             "null when it will simply start when due")


@router.get("", responses=USER_OBJECT, **returns(RefreshScheduleView),
            summary="When the project's next scheduled refresh is due [researcher (own), "
            "governance, steward (own agency), auditor]")
def get(request_id: str, caller: RequestReaderCaller, session: SessionDep,
        ctx: ContextDep) -> dict[str, Any]:
    """The refresh schedule the agreement's `refresh_frequency` sets: the last succeeded
    run, when the hub starts the next refresh run (as the system, on its sweep), or why it
    will not (`once`, term over, project not ready, a run in progress). Not audited
    (status, like the run list)."""
    return refresh.get_refresh_schedule(session, ctx, caller,
                                        request_id=request_id).as_view()
