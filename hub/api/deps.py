"""Named ``Annotated`` dependencies: the context, the session, the caller and role gates.

Every endpoint declares the roles it admits by taking one of the ``…Caller`` types below.
No or a bad token → 401; a valid token of a role not admitted → 403 (audited). Node tokens
are admitted only by :data:`NodeCaller` (the ``/v1/node/...`` endpoints) and user tokens
never are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated

import httpx
from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from hub.db.engine import is_reader, read_session
from hub.domain.roles import Caller, Role
from hub.errors import AuthenticationError, PermissionDeniedError
from hub.node_client import make_node_http_client
from hub.services import audit
from hub.services.context import HubContext
from hub.services.users import authenticate


# Dependencies that do no I/O are ``async``: FastAPI runs a sync one as a step of its own
# on the thread pool, and every such step is a wait for a thread (issue 20).
async def get_context(request: Request) -> HubContext:
    context: HubContext = request.app.state.hub
    return context


ContextDep = Annotated[HubContext, Depends(get_context)]


_READ_METHODS = frozenset({"GET", "HEAD"})
#: Route templates whose GET only reads (no audited read: docs/hub.md, "Which reads are
#: audited"): they get a reader session, which takes no lock on SQLite. Every other route
#: gets a writer. A list of the pure reads rather than "every GET" because a reader that
#: writes after all is refused at once by SQLite while another writer is active (then 503
#: store_busy): a route missing here costs speed, a route wrongly here would cost
#: availability. The only writes left on these routes are refusals (a bad token, a role
#: not admitted); they are written in a writer session of their own
#: (:func:`hub.services.audit.writable`), which waits for the lock, so they stay 401/403.
READ_ONLY_ROUTES = frozenset({
    "/health", "/v1/hub/keys", "/v1/public/projects", "/v1/public/catalog", "/v1/me",
    "/v1/me/tokens", "/v1/agencies", "/v1/catalog", "/v1/users", "/v1/users/pending",
    "/v1/invitations", "/v1/governance/roster", "/v1/requests",
    "/v1/requests/{request_id}/runs", "/v1/requests/{request_id}/runs/{run_id}",
    "/public", "/public/privacy", "/public/catalog",
})


async def get_session(ctx: ContextDep, request: Request) -> AsyncIterator[Session]:
    """One session per request: a reader (deferred ``BEGIN``, :func:`hub.db.engine.
    read_session`) for a GET of :data:`READ_ONLY_ROUTES`, a writer (``BEGIN IMMEDIATE``
    on SQLite) otherwise."""
    route = getattr(request.scope.get("route"), "path", None)
    # Making a session does no I/O (it connects on first use), so it happens on the event
    # loop; only closing it, which gives the connection back (a rollback), takes a thread
    # step. One thread-pool step per request fewer than a sync dependency (issue 20).
    if request.method in _READ_METHODS and route in READ_ONLY_ROUTES:
        session = read_session(ctx.session_factory)
    else:
        session = ctx.session_factory()
    try:
        yield session
    finally:
        if session.get_transaction() is None:
            session.close()  # never used: no connection to give back, nothing to wait for
        else:
            await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]


async def source_address(request: Request) -> str:
    return request.client.host if request.client else ""


SourceDep = Annotated[str, Depends(source_address)]


async def anonymous_caller(source: SourceDep) -> Caller:
    return Caller(None, source)


AnonymousCaller = Annotated[Caller, Depends(anonymous_caller)]


#: The bearer scheme of the OpenAPI document (Swagger UI's Authorize button). It never
#: refuses by itself (``auto_error=False``): :func:`authenticated_caller` reads the header
#: and answers a missing or malformed one with the hub's own 401 ``missing_token``.
BEARER = HTTPBearer(
    auto_error=False, scheme_name="bearer", bearerFormat="opaque API token",
    description="An API token: redeemed from an invitation (`POST /v1/invitations/redeem`) "
                "or issued by `POST /v1/me/tokens`; node tokens come from enrollment. Sent "
                "as `Authorization: Bearer <token>`.",
)


async def bearer_scheme(
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    request: Request,
) -> str | None:
    """The raw ``Authorization`` header (any scheme, so a wrong one gets the hub's 401)."""
    return request.headers.get("authorization")


def authenticated_caller(
    session: SessionDep,
    ctx: ContextDep,
    source: SourceDep,
    authorization: Annotated[str | None, Depends(bearer_scheme)],
) -> Caller:
    if not authorization:
        raise AuthenticationError("this endpoint needs an API token (Authorization: Bearer …)",
                                  code="missing_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the Authorization header must be 'Bearer <token>'",
                                  code="missing_token")
    principal = authenticate(session, ctx, token=token.strip(), source=source)
    if not is_reader(session):
        # A writer ends the token lookup's transaction: the pooled connection and, on
        # SQLite, the write lock go back while this request waits for its next thread-pool
        # step (issue 20: held connections starved the pool). A reader keeps its snapshot
        # and connection for the handler — it holds no lock, and admission keeps requests
        # in flight within the pool — saving a COMMIT, a checkout ping and a BEGIN.
        session.commit()
    return Caller(principal, source)


AuthenticatedCaller = Annotated[Caller, Depends(authenticated_caller)]


def require(*roles: Role | str) -> Callable[..., Caller]:
    """A dependency admitting user principals of ``roles`` (``"node"`` for nodes)."""
    admitted = frozenset(str(r) for r in roles)

    # async: the role check does no I/O, so admitted callers (nearly all) cost no
    # thread-pool step; only a refusal, which writes its audit event, goes to a thread.
    async def dependency(caller: AuthenticatedCaller, session: SessionDep, ctx: ContextDep,
                         request: Request) -> Caller:
        principal = caller.principal
        assert principal is not None
        if principal.role in admitted:
            return caller
        if principal.kind == "node":
            error = PermissionDeniedError("node tokens are admitted only on /v1/node/ endpoints",
                                          code="node_token_not_admitted")
        elif "node" in admitted:
            error = PermissionDeniedError("this endpoint is for enrolled agency nodes only")
        else:
            error = PermissionDeniedError(
                f"role {principal.role!r} may not do this (admitted: {', '.join(sorted(admitted))})"
            )
        await run_in_threadpool(
            audit.refuse, session, ctx, caller, error, action="auth.forbidden",
            detail={"path": request.url.path, "method": request.method})
        raise AssertionError("audit.refuse raises")  # pragma: no cover

    dependency.admitted_roles = admitted  # type: ignore[attr-defined]
    return dependency


ALL_USERS = (Role.ADMIN, Role.RESEARCHER, Role.GOVERNANCE, Role.STEWARD, Role.AUDITOR)
READERS = (Role.RESEARCHER, Role.GOVERNANCE, Role.STEWARD, Role.AUDITOR)

AdminCaller = Annotated[Caller, Depends(require(Role.ADMIN))]
ResearcherCaller = Annotated[Caller, Depends(require(Role.RESEARCHER))]
GovernanceCaller = Annotated[Caller, Depends(require(Role.GOVERNANCE))]
AuditorCaller = Annotated[Caller, Depends(require(Role.AUDITOR))]
AuditAdminCaller = Annotated[Caller, Depends(require(Role.AUDITOR, Role.ADMIN))]
RequestReaderCaller = Annotated[Caller, Depends(require(*READERS))]
AnyUserCaller = Annotated[Caller, Depends(require(*ALL_USERS))]
NodeCaller = Annotated[Caller, Depends(require("node"))]
StewardCaller = Annotated[Caller, Depends(require(Role.STEWARD))]
ExtractBuilderCaller = Annotated[Caller, Depends(require(Role.RESEARCHER, Role.GOVERNANCE))]


async def raw_body(request: Request) -> bytes:
    """The exact request bytes (signed messages are verified over what was sent)."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def node_client(request: Request, ctx: ContextDep) -> Iterator[httpx.Client]:
    """The HTTP client towards agency nodes (:mod:`hub.node_client`); tests put an httpx
    transport in ``app.state.node_transport``."""
    transport = getattr(request.app.state, "node_transport", None)
    client = make_node_http_client(ctx.settings, transport=transport)
    try:
        yield client
    finally:
        client.close()


NodeClientDep = Annotated[httpx.Client, Depends(node_client)]
