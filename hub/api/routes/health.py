"""Liveness and the hub's public keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import ContextDep
from hub.api.responses import PUBLIC
from hub.api.schemas_public import HealthView, HubKeysView
from hub.api.schemas_views import returns
from protocol.keyfiles import public_key_to_b64

router = APIRouter()


@router.get("/health", responses=PUBLIC, **returns(HealthView),
            tags=["health"], summary="Liveness: the process answers (public)")
async def health() -> dict[str, str]:
    """Liveness only: answers without touching the database (readiness is `GET /ready`). No
    token."""
    # Liveness only, on the event loop: no thread, no database connection. /health is
    # never queued by admission control, so a flood of it must not be able to hold the
    # threads and connections requests need (issue 20: 200 concurrent /health deadlocked
    # the pool when it ran SELECT 1). The database is /ready's business.
    return {"status": "ok"}


@router.get("/v1/hub/keys", responses=PUBLIC, **returns(HubKeysView),
            tags=["health"], summary="The hub's public keys (public)")
def hub_keys(ctx: ContextDep) -> dict[str, Any]:
    """The hub's Ed25519 signing key and X25519 HPKE key with their key ids. Nodes pin them at
    enrollment; auditors check signed checkpoints with the signing key. No token."""
    return {
        "signing_public_key": public_key_to_b64(ctx.keys.signing_public),
        "signing_kid": ctx.keys.signing_kid,
        "hpke_public_key": public_key_to_b64(ctx.keys.hpke_public),
        "hpke_kid": ctx.keys.hpke_kid,
    }
