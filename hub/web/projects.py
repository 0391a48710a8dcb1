"""Researchers' project pages: their requests, each with its status timeline, decisions,
approved term, linkage runs with their quality report, extracts (download, expiry) and
outputs — shown only from what the hub actually holds (docs/web.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from hub.api.deps import ContextDep, SessionDep
from hub.errors import NotFoundError
from hub.services import extract_access
from hub.web.deps import ProjectPage
from hub.web.pages import PageRoute, render
from hub.web.views import my_projects, project_page

router = APIRouter(prefix="/projects", route_class=PageRoute, include_in_schema=False)

Id = Annotated[str, Path(max_length=64)]


@router.get("")
def projects(request: Request, me: ProjectPage, session: SessionDep,
             ctx: ContextDep) -> HTMLResponse:
    return render(request, "projects.html", rows=my_projects(session, ctx, me))


@router.get("/{request_id}")
def project(request: Request, request_id: Id, me: ProjectPage, session: SessionDep,
            ctx: ContextDep) -> HTMLResponse:
    return render(request, "project.html", **project_page(session, ctx, me,
                                                          request_id=request_id))


@router.get("/{request_id}/extracts/{extract_id}/download")
def download_extract(request_id: Id, extract_id: Id, me: ProjectPage, session: SessionDep,
                     ctx: ContextDep) -> StreamingResponse:
    """The extract bundle, through the same checks, verification and audit as
    ``GET /v1/extracts/{id}/download`` (personnel only, not held, not expired)."""
    extract, _ = extract_access.visible_extract(session, me.caller, extract_id=extract_id)
    if extract.project_id != request_id:
        raise NotFoundError(f"project {request_id} has no extract {extract_id}")
    prepared = extract_access.prepare_download(session, ctx, me.caller, extract_id=extract_id)
    headers = {"X-Fedlink-SHA256": prepared.sha256,
               "Content-Disposition": f'attachment; filename="{prepared.filename}"'}
    if prepared.size is not None:
        headers["Content-Length"] = str(prepared.size)
    return StreamingResponse(prepared.chunks(), media_type=prepared.media_type,
                             headers=headers)
