"""``mount_web(app)``: add the pages and their static files to the hub's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hub.web import audit, auth, catalog, projects, public, review
from hub.web.pages import build_templates

STATIC_DIR = Path(__file__).resolve().parent / "static"


def mount_web(app: FastAPI) -> None:
    """Pages at ``/``, ``/signin``, ``/review``, ``/audit``, ``/projects``, ``/public``
    (docs/web.md) and their CSS and script at ``/static``."""
    app.state.web_templates = build_templates()
    for module in (auth, review, audit, projects, catalog, public):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
