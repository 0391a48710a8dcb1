"""``create_app(settings)``: the hub's FastAPI application.

Nothing is created at import time: the engine, the session factory and the keys are built
here from ``settings`` (or injected by tests), and the database schema must be at the newest
Alembic revision (``fedlink hub init`` migrates).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import Engine

from hub.api.admission import Admission
from hub.api.body_limit import BodyLimit
from hub.api.docs import install_docs
from hub.api.errors import install_handlers
from hub.api.public_cache import InvalidateOnWrite
from hub.api.responses import install_openapi
from hub.api.routes import (
    agencies,
    agenda,
    amendments,
    audit,
    conflicts,
    extracts,
    findings,
    governance,
    health,
    incidents,
    node,
    ops,
    outputs,
    public,
    public_use,
    refresh,
    requests,
    runs,
    safe_outputs,
    tlog,
    training,
    users,
)
from hub.db.base import utcnow
from hub.db.engine import engine_for, make_session_factory
from hub.db.migrate import require_current_schema
from hub.keys import HubKeys, load_hub_keys
from hub.services import auth_throttle
from hub.services.context import HubContext
from hub.services.extract_destruction import ExtractSweeper
from hub.services.public_cache import PublicCache
from hub.services.run_worker import LinkageWorker
from hub.services.witnessing import WitnessPusher
from hub.settings import HubSettings
from hub.web.app import mount_web


def create_app(
    settings: HubSettings,
    *,
    keys: HubKeys | None = None,
    engine: Engine | None = None,
    clock: Callable[..., object] | None = None,
    check_schema: bool = True,
) -> FastAPI:
    """The hub API for ``settings``; ``keys``, ``engine`` and ``clock`` are injectable."""
    owned_engine = engine is None
    engine = engine or engine_for(settings)
    if check_schema:
        require_current_schema(engine)
    context = HubContext(
        settings=settings,
        hub_keys=keys or load_hub_keys(settings.dir),
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or utcnow,  # type: ignore[arg-type]
        public_cache=PublicCache(settings.public_cache_seconds),
    )

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        # Sync handlers run on anyio's thread pool; its size is a setting (docs/operations.md).
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        worker = None
        if settings.run_worker:  # the linkage worker thread (docs/linkage-runs.md)
            worker = LinkageWorker(context, metrics=getattr(app_.state, "metrics", None))
            worker.start()
        sweeper = None
        if settings.extract_sweep_seconds:  # extract expiry and destruction (docs/extracts.md)
            sweeper = ExtractSweeper(context, interval=settings.extract_sweep_seconds)
            sweeper.start()
        pusher = None
        if settings.witness_push_seconds and context.hub_keys is not None:
            # checkpoints to the witnesses, off the request path (docs/hub.md)
            pusher = WitnessPusher(context, interval=settings.witness_push_seconds)
            pusher.start()
        yield
        if pusher is not None:
            pusher.stop()
        auth_throttle.flush(context)  # the summary of bad tokens not yet recorded
        if sweeper is not None:
            sweeper.stop()
        if worker is not None:
            worker.stop()
        if owned_engine:
            engine.dispose()

    app = FastAPI(
        title="Fedlink hub",
        version="0.1.0",
        description=(
            "Governance hub of a Fedlink federation: research requests as data sharing "
            "agreements, approvals by every agency and a governance quorum, a hash-chained "
            "audit log and public transparency. See docs/hub.md."
        ),
        lifespan=lifespan,
        # Served by install_docs from the hub itself, not from a CDN (hub.api.docs).
        docs_url=None,
        redoc_url=None,
    )
    app.state.hub = context
    install_handlers(app)
    install_openapi(app)  # 422 as the hub sends it (hub.api.responses)
    install_docs(app)  # /docs and /redoc with their assets, no CDN (hub.api.docs)
    for module in (health, public, users, agencies, requests, amendments, conflicts, runs,
                   refresh,
                   extracts, agenda,
                   outputs, safe_outputs, public_use,
                   node, audit, tlog, governance, training, findings,
                   incidents):
        app.include_router(module.router)
    # Every route: bodies over max_request_bytes get 413 before they are read whole.
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)
    # Inside admission: a write empties the public-list cache when its answer starts.
    app.add_middleware(InvalidateOnWrite, cache=context.public_cache)
    app.add_middleware(Admission, limit=settings.max_concurrent_requests,
                       wait=settings.request_queue_seconds)
    ops.install(app, context)  # /ready, /metrics, request ids, access log (docs/operations.md)
    mount_web(app)  # web pages and their static files (docs/web.md)
    return app
