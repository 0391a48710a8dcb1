"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served whole by the hub itself.

Hubs run in state networks that often have no outbound access, so nothing on these pages
comes from a CDN or Google Fonts: the Swagger UI and ReDoc bundles are the ones the
``fastapi-offline`` package ships (its ``static`` folder), served at ``/docs/assets/…``;
the few lines that start Swagger UI are ``/static/api-docs.js`` (hub/web/static). The
pages hold no inline script, so they carry a Content-Security-Policy that admits scripts
from the hub only (docs/hub.md, "API reference").
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

#: Where ``fastapi-offline`` keeps the Swagger UI and ReDoc bundles it ships.
_VENDORED = Path(str(files("fastapi_offline") / "static"))
#: The assets served at ``/docs/assets/{name}``: a fixed list, never a path from the URL.
ASSETS: Final = {
    "swagger-ui-bundle.js": ("text/javascript", _VENDORED / "swagger-ui-bundle.js"),
    "swagger-ui.css": ("text/css", _VENDORED / "swagger-ui.css"),
    "redoc.standalone.js": ("text/javascript", _VENDORED / "redoc.standalone.js"),
}
ASSET_PREFIX: Final = "/docs/assets"
#: Scripts only from the hub; inline styles are needed by ReDoc (styled-components) and
#: Swagger UI's SVG icons are data: URLs; ReDoc's search runs in a blob: worker. Images
#: only from the hub: ReDoc's side menu always asks for Redocly's logo from their CDN,
#: which this blocks before any request leaves the browser (ReDoc then hides it).
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
{head}
</head>
<body data-openapi-url="{openapi_url}">
{body}
</body>
</html>
"""


def _swagger_page(title: str, openapi_url: str) -> str:
    return _PAGE.format(
        title=escape(f"{title} – API (Swagger UI)"), openapi_url=escape(openapi_url),
        head=f'<link rel="stylesheet" href="{ASSET_PREFIX}/swagger-ui.css">',
        body=(f'<div id="swagger-ui"></div>\n'
              f'<script src="{ASSET_PREFIX}/swagger-ui-bundle.js"></script>\n'
              '<script src="/static/api-docs.js"></script>'))


def _redoc_page(title: str, openapi_url: str) -> str:
    # <redoc spec-url> starts ReDoc by itself once its script has loaded: no inline script.
    return _PAGE.format(
        title=escape(f"{title} – API (ReDoc)"), openapi_url=escape(openapi_url), head="",
        body=(f'<redoc spec-url="{escape(openapi_url)}"></redoc>\n'
              f'<script src="{ASSET_PREFIX}/redoc.standalone.js"></script>'))


def install_docs(app: FastAPI) -> None:
    """``/docs``, ``/redoc`` and their assets on ``app`` (made with ``docs_url=None``,
    ``redoc_url=None``); none of them is in the OpenAPI document."""
    openapi_url = app.openapi_url or "/openapi.json"
    swagger = _swagger_page(app.title, openapi_url)
    redoc = _redoc_page(app.title, openapi_url)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger, headers=_HEADERS)

    @app.get("/redoc", include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc, headers=_HEADERS)

    @app.get(ASSET_PREFIX + "/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise StarletteHTTPException(404, "no such documentation asset")
        media_type, path = ASSETS[name]
        # The bundles change only with the package: a day in the browser's cache.
        return FileResponse(path, media_type=media_type,
                            headers={"Cache-Control": "public, max-age=86400",
                                     "X-Content-Type-Options": "nosniff"})
