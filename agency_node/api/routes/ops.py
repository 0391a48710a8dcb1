"""``GET /ready`` (readiness: store, schema, keys) and ``GET /metrics`` (Prometheus).

``/health`` says the process answers; ``/ready`` says the node can answer the hub: the
store answers, can take a write (not read-only, not full: :mod:`agency_node.store.probe`)
and is at the newest schema revision, and the federation secret, the node
keys, the enrolled hub's keys and the node API token are present and private (re-read at
every call: a secret removed or made readable by others is noticed here, not at the next
match request). 200 ``{"status": "ready", "checks": {...}}`` or 503 with
``{"error": "not_ready", "detail": "<what is wrong>", "checks": {...}}``.
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

from agency_node.api.deps import Services
from agency_node.api.responses import METRICS, READY
from agency_node.errors import MetricsUnauthorisedError, NodeError
from agency_node.metrics import NodeMetrics
from agency_node.services.context import NodeServices
from agency_node.store.db import describe_db_error
from agency_node.store.migrate import head_revision
from agency_node.store.probe import store_writable

router = APIRouter()


@cache
def _head() -> str:
    return head_revision()


def readiness(services: NodeServices) -> dict[str, str]:
    """Each check's verdict: ``ok`` or one sentence saying what is wrong."""
    checks: dict[str, str] = {}
    try:
        with services.runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
            writable = store_writable(connection)
        checks["database"] = "ok" if writable == "ok" else f"the store {writable}"
        checks["schema"] = "ok" if current == _head() else (
            f"at revision {current or 'none'}, not {_head()}; restart the node to migrate")
    except SQLAlchemyError as exc:
        checks["database"] = f"cannot be reached ({describe_db_error(exc)})"
        checks["schema"] = "unknown"
    try:
        services.runtime.settings.require_serving()
        checks["keys"] = "ok"
    except NodeError as exc:
        checks["keys"] = str(exc)
    return checks


@router.get("/ready", responses=READY)
def ready(services: Services) -> JSONResponse:
    checks = readiness(services)
    problems = [f"{name}: {verdict}" for name, verdict in checks.items() if verdict != "ok"]
    if problems:
        body: dict[str, Any] = {"error": "not_ready", "detail": "; ".join(problems),
                                "status": "not_ready", "checks": checks}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "agency": services.agency, "checks": checks})


def _metrics_allowed(request: Request, services: NodeServices) -> bool:
    """A scraper presenting the metrics token (``FEDLINK_NODE_METRICS_TOKEN_SHA256`` holds
    its SHA-256), or — when none is configured — a caller on the loopback interface."""
    expected = services.runtime.settings.metrics_token_sha256
    if expected:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        digest = hashlib.sha256(token.strip().encode("utf-8")).hexdigest()
        return scheme.lower() == "bearer" and hmac.compare_digest(digest, expected)
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics", responses=METRICS)
def metrics(request: Request, services: Services) -> Response:
    if not _metrics_allowed(request, services):
        raise MetricsUnauthorisedError(
            "/metrics needs the metrics token (Authorization: Bearer …), or a loopback caller "
            "when none is configured")
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install(app: Any) -> NodeMetrics:
    """Metrics, the request observer and these routes on ``app``."""
    from agency_node.api.observability import RequestObserver

    metrics_ = NodeMetrics()
    app.state.metrics = metrics_
    app.add_middleware(RequestObserver, metrics=metrics_)
    app.include_router(router)
    return metrics_
