"""The node as a witness of the hub's audit log: ``POST /v1/witness/checkpoints`` (a
hub-signed checkpoint in, a co-signature and the node's own log checkpoint out) and
``GET /v1/witness/checkpoints`` (what this node co-signed, for auditors)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from agency_node.api.deps import Services, read_limited
from agency_node.api.responses import SIGNED, STORE, signed_body
from agency_node.services.gate import ReceivedBody
from agency_node.services.witness import witness, witnessed
from protocol.witness import WitnessRequest

router = APIRouter()

#: A witness request is a checkpoint note and at most 128 hashes: a few KiB.
MAX_WITNESS_REQUEST_BYTES = 64 << 10


async def _witness_body(request: Request) -> ReceivedBody:
    return await read_limited(request, MAX_WITNESS_REQUEST_BYTES)


@router.post("/v1/witness/checkpoints", responses=SIGNED,
             openapi_extra=signed_body(WitnessRequest))
def cosign_checkpoint(body: Annotated[ReceivedBody, Depends(_witness_body)],
                      services: Services) -> dict[str, Any]:
    return witness(services, body).model_dump(mode="json")


@router.get("/v1/witness/checkpoints", responses=STORE)
def cosigned_checkpoints(services: Services) -> dict[str, Any]:
    return witnessed(services)
