"""``GET /ready`` (readiness: database, schema, keys) and ``GET /metrics`` (Prometheus).

``/health`` says the process answers; ``/ready`` says it can do its job: the database
answers, can take a write (:mod:`hub.db.probe`) and is at the newest schema revision,
and the key files on disk are the keys the process holds (a key deleted, made readable
by others or replaced under a running hub is noticed here). 200 ``{"status": "ready",
"checks": {...}}`` or 503 with ``{"error": "not_ready", "detail": "<what is wrong>",
"checks": {...}}``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from functools import cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hub.api.deps import ContextDep
from hub.api.responses import PUBLIC
from hub.api.schemas_public import ReadyView, ok
from hub.db.migrate import head_revision
from hub.db.probe import database_writable
from hub.errors import AuthenticationError, ConfigError
from hub.keys import load_hub_keys
from hub.metrics import HubMetrics
from hub.services.context import HubContext

router = APIRouter()


@cache
def _head() -> str:
    return head_revision()


def readiness(ctx: HubContext) -> dict[str, str]:
    """Each check's verdict: ``ok`` or one sentence saying what is wrong."""
    checks: dict[str, str] = {}
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
            writable = database_writable(connection)
        checks["database"] = "ok" if writable == "ok" else f"the database {writable}"
        checks["schema"] = "ok" if current == _head() else (
            f"at revision {current or 'none'}, not {_head()}; run `fedlink hub migrate`")
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        checks["database"] = f"cannot be reached ({type(exc).__name__}: {first[:200]})"
        checks["schema"] = "unknown"
    try:
        on_disk = load_hub_keys(ctx.settings.dir)
        same = (on_disk.signing_kid, on_disk.hpke_kid) == (ctx.keys.signing_kid,
                                                           ctx.keys.hpke_kid)
        checks["keys"] = "ok" if same else "the key files changed since start; restart the hub"
    except ConfigError as exc:
        checks["keys"] = str(exc)
    return checks


@router.get("/ready", tags=["health"], responses={**PUBLIC, **ok(ReadyView)},
            summary="Readiness: database, schema, keys (public)")
def ready(ctx: ContextDep) -> JSONResponse:
    """Readiness: the database answers and takes writes, the schema is current and the key
    files are the ones in use. 200 `ready`, or 503 `not_ready` with what is wrong. No token."""
    checks = readiness(ctx)
    problems = [f"{name}: {verdict}" for name, verdict in checks.items() if verdict != "ok"]
    if problems:
        body: dict[str, Any] = {"error": "not_ready", "detail": "; ".join(problems),
                                "status": "not_ready", "checks": checks}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})


def _metrics_allowed(request: Request, ctx: HubContext) -> bool:
    """A scraper presenting the metrics token (its SHA-256 is in the settings), or — when
    no token is configured — a caller on the loopback interface. Metrics name routes,
    refusal rates and job counts: operations data, not for the open network."""
    expected = ctx.settings.metrics_token_sha256
    if expected:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        digest = hashlib.sha256(token.strip().encode("utf-8")).hexdigest()
        return scheme.lower() == "bearer" and hmac.compare_digest(digest, expected)
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, ctx: ContextDep) -> Response:
    if not _metrics_allowed(request, ctx):
        raise AuthenticationError(
            "/metrics needs the metrics token (Authorization: Bearer …), or a loopback "
            "caller when none is configured", code="metrics_unauthorised")
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install(app: Any, ctx: HubContext) -> HubMetrics:
    """Metrics (with the job gauge), the request observer and these routes on ``app``."""
    from hub.api.observability import RequestObserver

    metrics_ = HubMetrics()
    metrics_.watch_jobs(ctx.session_factory)
    app.state.metrics = metrics_
    app.add_middleware(RequestObserver, metrics=metrics_)
    app.include_router(router)
    return metrics_
