"""``GET /health``: liveness, for load balancers and ``fedlink node serve`` checks."""

from __future__ import annotations

from fastapi import APIRouter

from agency_node.api.deps import Services

router = APIRouter()


@router.get("/health")
def health(services: Services) -> dict[str, str]:
    return {"status": "ok", "agency": services.agency}
