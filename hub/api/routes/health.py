"""Liveness and the hub's public keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from hub.api.deps import ContextDep, SessionDep
from protocol.keyfiles import public_key_to_b64

router = APIRouter()


@router.get("/health", tags=["health"], summary="Liveness and database check (public)")
def health(session: SessionDep) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/v1/hub/keys", tags=["health"], summary="The hub's public keys (public)")
def hub_keys(ctx: ContextDep) -> dict[str, Any]:
    return {
        "signing_public_key": public_key_to_b64(ctx.keys.signing_public),
        "signing_kid": ctx.keys.signing_kid,
        "hpke_public_key": public_key_to_b64(ctx.keys.hpke_public),
        "hpke_kid": ctx.keys.hpke_kid,
    }
