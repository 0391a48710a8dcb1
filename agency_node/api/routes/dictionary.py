"""``GET /v1/dictionary``: the variables this node offers and their classification — the
names and nature of the data, never a value."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agency_node.api.deps import Services
from agency_node.api.responses import NONE
from agency_node.services.dictionary import catalog

router = APIRouter()


@router.get("/v1/dictionary", responses=NONE)
def dictionary(services: Services) -> dict[str, Any]:
    config = services.runtime.settings.node
    return {
        "agency": config.node.agency,
        "name": config.node.name,
        "variables": [v.model_dump(mode="json") for v in catalog(config)],
    }
