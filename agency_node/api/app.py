"""The node's FastAPI app. Nothing is created at import time: :func:`create_app` builds the
engine, keys and services from the settings it is given."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from agency_node.api import errors
from agency_node.api.responses import install_openapi
from agency_node.api.routes import (
    dictionary,
    extracts,
    governance,
    health,
    match_requests,
    ops,
    witness,
)
from agency_node.runtime import NodeRuntime
from agency_node.services.context import NodeServices
from agency_node.services.governance import governance_poller
from agency_node.services.purge import PurgeSweeper
from agency_node.settings import NodeSettings


def create_app(settings: NodeSettings, *, clock: Callable[[], float] = time.time) -> FastAPI:
    """The node app; fails fast (ConfigError/NotEnrolledError) when it cannot serve."""
    runtime = NodeRuntime.from_settings(settings)
    try:
        services = NodeServices.build(runtime, clock=clock)
    except Exception:
        runtime.engine.dispose()
        raise

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Ended projects lose their issued pids by this node's own clock (services/purge.py).
        sweeper = PurgeSweeper(runtime, interval=settings.purge_sweep_seconds,
                               clock=services.now)
        sweeper.start()
        # Roster updates and revocations are pulled as well as pushed (services/governance.py).
        poller = governance_poller(runtime, services)
        if poller is not None:
            poller.start()
        yield
        if poller is not None:
            poller.stop()
        sweeper.stop()
        runtime.engine.dispose()

    app = _api(settings.agency, lifespan=lifespan)
    app.state.services = services
    return app


def _api(agency: str, **options: Any) -> FastAPI:
    # The node serves no docs (docs/agency-node.md): one machine client, the hub.
    app = FastAPI(title=f"Fedlink agency node {agency}",
                  docs_url=None, redoc_url=None, openapi_url=None, **options)
    errors.install(app)
    for module in (health, dictionary, match_requests, extracts, witness, governance):
        app.include_router(module.router)
    ops.install(app)  # /ready, /metrics, request ids, access log (docs/operations.md)
    install_openapi(app)  # bodies and errors as the node takes and sends them
    return app


def openapi_document(agency: str = "AGENCY") -> dict[str, Any]:
    """The node API's OpenAPI document (``app.openapi()`` of :func:`create_app`), built
    without a node directory: it depends only on the routes (docs/agency-node.md, "What
    the node API guarantees")."""
    return _api(agency).openapi()
