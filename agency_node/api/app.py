"""The node's FastAPI app. Nothing is created at import time: :func:`create_app` builds the
engine, keys and services from the settings it is given."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from agency_node.api import errors
from agency_node.api.routes import dictionary, extracts, health, match_requests, ops
from agency_node.runtime import NodeRuntime
from agency_node.services.context import NodeServices
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
        yield
        runtime.engine.dispose()

    app = FastAPI(
        title=f"Fedlink agency node {settings.agency}",
        docs_url=None, redoc_url=None, openapi_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    errors.install(app)
    for module in (health, dictionary, match_requests, extracts):
        app.include_router(module.router)
    ops.install(app)  # /ready, /metrics, request ids, access log (docs/operations.md)
    return app
