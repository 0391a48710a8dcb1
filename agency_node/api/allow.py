"""The ``Allow`` header of a 405: every method the requested path accepts (RFC 9110
§15.5.6).

The router names only the methods of the *first* route whose path matched, and the node
declares one route per method (``GET`` and ``POST /v1/witness/checkpoints`` are two
routes), so the header is rebuilt here from every route of the application. The hub has
the same helper (hub/api/allow.py): the two services never import each other, and
``protocol`` (the only code they share) holds no web code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.routing import compile_path

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # a FastAPI that flattens included routers: app.routes is every route

    def iter_route_contexts(routes: Iterable[Any]) -> Iterator[Any]:  # type: ignore[misc]
        return iter(routes)


@cache
def _pattern(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def routes_with_methods(app: Any) -> Iterator[tuple[str, set[str]]]:
    """(path template, methods) of every route of ``app``, included routers flattened."""
    for route in iter_route_contexts(app.router.routes):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods:
            yield path, set(methods)


def allowed_methods(request: Request) -> list[str]:
    """The methods of every route whose path matches ``request``, sorted."""
    path = request.scope["path"]
    allowed: set[str] = set()
    for template, methods in routes_with_methods(request.app):
        if _pattern(template).match(path):
            allowed |= methods
    return sorted(allowed)
