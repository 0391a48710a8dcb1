"""``POST /v1/extracts``: a signed extract request in, a sealed Arrow payload out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agency_node.api.deps import ExtractBody, Services
from agency_node.api.responses import SIGNED, signed_body
from agency_node.services.extract import answer_extract
from protocol.wire import ExtractRequest

router = APIRouter()


@router.post("/v1/extracts", responses=SIGNED, openapi_extra=signed_body(ExtractRequest))
def extract(body: ExtractBody, services: Services) -> dict[str, Any]:
    return answer_extract(services, body)
