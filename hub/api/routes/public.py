"""Public transparency, no login."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import ContextDep, SessionDep
from hub.services.catalog import public_summary
from hub.services.transparency import public_projects

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/projects", summary="Approved projects, denied IRB-approved requests and "
            "statistics (no personal data) [public]")
def projects(session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    return public_projects(session, ctx)


@router.get("/catalog", summary="What data each agency offers: variables, descriptions, "
            "years, classification (no counts) [public]")
def catalog(session: SessionDep) -> dict[str, Any]:
    return {"agencies": public_summary(session)}
