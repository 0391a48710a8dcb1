"""``GET /health``: liveness, for load balancers and ``fedlink node serve`` checks."""

from __future__ import annotations

from fastapi import APIRouter

from agency_node.api.deps import Services
from agency_node.api.responses import NONE

router = APIRouter()


@router.get("/health", responses=NONE)
def health(services: Services) -> dict[str, str]:
    return {"status": "ok", "agency": services.agency}
