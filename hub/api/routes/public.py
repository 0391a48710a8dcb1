"""Public transparency, no login."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from hub.api.deps import ContextDep, SessionDep
from hub.api.responses import PUBLIC
from hub.api.schemas_public import PublicCatalog, PublicProjects, ok
from hub.api.schemas_views import returns
from hub.services.catalog import public_summary
from hub.services.transparency import (
    OFFSET_MAX,
    PAGE_DEFAULT,
    PAGE_MAX,
    cached_public_page,
    public_page,
)

router = APIRouter(prefix="/v1/public", tags=["public"])


#: ``?limit=`` and ``?offset=`` of the public list (also the page ``/public``); out of
#: range → 422. The offset is bounded so no value reaches the database as an overflow.
PageLimit = Annotated[int, Query(ge=1, le=PAGE_MAX, description=(
    f"projects per page (default {PAGE_DEFAULT}, at most {PAGE_MAX})"))]
PageOffset = Annotated[int, Query(ge=0, le=OFFSET_MAX, description=(
    "how many projects to skip: the previous page's `page.next_offset`"))]


# Documented, not validated: the page is answered from the process's cache on the event
# loop (issue 20); tests check it against the model (tests/hub/api/test_openapi_*).
@router.get("/projects", responses={**PUBLIC, **ok(PublicProjects)},
            summary="Approved projects, denied requests with their public reasons and "
            "statistics (no personal data), a page at a time; `page.next` is the next "
            "page's path, null on the last [public]")
async def projects(ctx: ContextDep, limit: PageLimit = PAGE_DEFAULT,
                   offset: PageOffset = 0) -> dict[str, Any]:
    """The public transparency list (no token, no personal data): approved projects with the
    agencies and kinds of data they use and their released outputs, denied requests with the
    reason written for the public (never the internal one), and statistics over every
    submitted request. Page with `limit` and
    `offset`; follow `page.next` until it is null."""
    # async: a page this process answered less than public_cache_seconds ago costs no
    # thread and no connection (hub.services.public_cache; issue 20).
    body = cached_public_page(ctx, limit=limit, offset=offset)
    if body is None:
        body = await run_in_threadpool(
            public_page, ctx, limit=limit, offset=offset,
            next_path=lambda following: f"{router.prefix}/projects?limit={limit}"
                                        f"&offset={following}")
    return body


@router.get("/catalog", responses=PUBLIC, **returns(PublicCatalog),
            summary="What data each agency offers: variables, descriptions, "
            "years, classification (no counts) [public]")
def catalog(session: SessionDep) -> dict[str, Any]:
    """Per enrolled agency, the variables it offers with descriptions, years and
    classification. Nothing derived from counting records (no completeness, no code counts).
    No token."""
    return {"agencies": public_summary(session)}
