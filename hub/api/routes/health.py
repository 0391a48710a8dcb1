"""Liveness and the hub's public keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import ContextDep
from hub.api.responses import PUBLIC
from protocol.keyfiles import public_key_to_b64

router = APIRouter()


@router.get("/health", responses=PUBLIC,
            tags=["health"], summary="Liveness: the process answers (public)")
async def health() -> dict[str, str]:
    # Liveness only, on the event loop: no thread, no database connection. /health is
    # never queued by admission control, so a flood of it must not be able to hold the
    # threads and connections requests need (issue 20: 200 concurrent /health deadlocked
    # the pool when it ran SELECT 1). The database is /ready's business.
    return {"status": "ok"}


@router.get("/v1/hub/keys", responses=PUBLIC,
            tags=["health"], summary="The hub's public keys (public)")
def hub_keys(ctx: ContextDep) -> dict[str, Any]:
    return {
        "signing_public_key": public_key_to_b64(ctx.keys.signing_public),
        "signing_kid": ctx.keys.signing_kid,
        "hpke_public_key": public_key_to_b64(ctx.keys.hpke_public),
        "hpke_kid": ctx.keys.hpke_kid,
    }
