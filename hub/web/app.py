"""``mount_web(app)``: add the pages and their static files to the hub's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hub.web import (
    audit,
    auth,
    catalog,
    findings,
    incidents,
    outputs,
    projects,
    public,
    public_use,
    review,
    safe_outputs,
    training,
)
from hub.web.pages import build_templates

STATIC_DIR = Path(__file__).resolve().parent / "static"


def mount_web(app: FastAPI) -> None:
    """Pages at ``/``, ``/signin``, ``/review``, ``/audit``, ``/projects``, ``/public``,
    ``/outputs``, ``/training``, ``/projects/{id}/findings``,
    ``/projects/{id}/safe-tables``, ``/projects/{id}/public-use-files``, ``/incidents``,
    ``/public/incidents`` (docs/web.md)
    and their CSS
    and script at ``/static``."""
    app.state.web_templates = build_templates()
    for module in (auth, review, audit, projects, catalog, public, outputs, training,
                   findings, safe_outputs, public_use, incidents):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
