"""Public transparency, no login."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import ContextDep, SessionDep
from hub.services.transparency import public_projects

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/projects", summary="Approved projects, denied IRB-approved requests and "
            "statistics (no personal data) [public]")
def projects(session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    return public_projects(session, ctx)
