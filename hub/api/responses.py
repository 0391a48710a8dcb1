"""What the OpenAPI document says about errors: the ``responses=`` mapping of each kind of
route, and the 422 rewritten to the body the hub really sends.

Every error the hub answers is :class:`ErrorBody` (``{"error": code, "detail": sentence}``,
:mod:`hub.api.errors`). Each route names the kind it is (``responses=responses.USER_CHANGE``)
so the document lists the statuses it can return; ``tests/hub/api/test_openapi_conformance.py``
fuzzes the hub against the document and checks every route's mapping against its
dependencies. Every kind documents 413 (:mod:`hub.api.body_limit`, any route) and 503
(:mod:`hub.api.admission`, a busy or unavailable store); FastAPI itself adds 422 to every
route that takes parameters or a body, which :func:`install_openapi` points at
:class:`ErrorBody` instead of FastAPI's ``HTTPValidationError`` (the hub's own validation
handler never sends that shape).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

ERROR_SCHEMA = "ErrorBody"
_REF = f"#/components/schemas/{ERROR_SCHEMA}"


class ErrorBody(BaseModel):
    """Every error answer of the hub."""

    error: str = Field(description="Stable machine-readable code, e.g. `not_found`, "
                       "`invalid_request`, `store_busy`")
    detail: str = Field(description="One sentence for a person; never a traceback or a "
                        "submitted value")


#: What each status means on any route that documents it.
DESCRIPTIONS: dict[int, str] = {
    400: "A signed message that is malformed or fails a protocol check",
    401: "No, unknown, expired or revoked token (`WWW-Authenticate: Bearer`), or a bad "
         "one-time code",
    403: "A valid token of a role (or agency) this route does not admit",
    404: "No such object, or one this caller may not see",
    409: "The object's state does not allow this change",
    410: "The extract expired, was destroyed, or its project ended",
    413: "The request body is larger than the hub's `max_request_bytes` (`payload_too_large`)",
    422: "Malformed or invalid parameters or body (`invalid_request`, with where and why; "
         "`malformed_message` for a signed statement that is not one)",
    429: "Too many bad tokens from this source (`too_many_auth_failures`)",
    502: "An agency node refused the hub or could not be reached",
    503: "The hub is at capacity (`overloaded`) or its database is busy or unavailable "
         "(`store_busy`, `store_unavailable`); `Retry-After` says when to retry",
}
UNPARSEABLE = "The body could not be decoded at all (`bad_request`)"
#: Answered by middleware on every route, whatever it declares.
EVERY_ROUTE = frozenset({413, 503})
#: What a route taking an API token (``…Caller`` of :mod:`hub.api.deps`) can always answer.
TOKEN = frozenset({401, 403, 429})


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A ``responses=`` mapping: ``statuses`` and :data:`EVERY_ROUTE`, each an
    :class:`ErrorBody` with its :data:`DESCRIPTIONS` line."""
    return {status: {"model": ErrorBody, "description": DESCRIPTIONS[status]}
            for status in sorted(EVERY_ROUTE | set(statuses))}


#: Anonymous routes with nothing to find: lists, keys, health.
PUBLIC = errors()
#: Anonymous routes naming one object (a released output).
PUBLIC_OBJECT = errors(404)
#: Anonymous routes presenting a one-time secret (invitation code, enrollment token).
ONE_TIME_SECRET = errors(401, 409)
#: Token routes that list or read without naming an object.
USER = errors(*TOKEN)
#: Token routes that read one object by id (404 for one the caller may not see).
USER_OBJECT = errors(*TOKEN, 404)
#: Token routes that create something named in the body (409 when it exists or clashes).
USER_CREATE = errors(*TOKEN, 409)
#: Token routes that change an object by id (409 when its state forbids it).
USER_CHANGE = errors(*TOKEN, 404, 409)
#: Token routes taking a signed message (docs/protocol.md): 400 for a malformed or
#: refused envelope, 401 for a bad signature or key, 422 for a governance statement that
#: is not JSON or not a signed statement (``malformed_message``).
SIGNED = errors(*TOKEN, 400, 404, 409, 422)
#: As :data:`SIGNED`, then pushed to agency nodes (502 when none answers).
SIGNED_PUSHED = errors(*TOKEN, 400, 404, 409, 422, 502)
#: Token routes on linked extracts (410 once an extract is gone).
EXTRACT = errors(*TOKEN, 404, 409, 410)


def ok_as(*media_types: str, description: str = "Successful Response"
          ) -> dict[int | str, dict[str, Any]]:
    """The 200 of a route that answers (also) in ``media_types`` other than JSON: merged
    into ``responses=`` (``{**USER, **ok_as("text/csv")}``)."""
    return {200: {"description": description,
                  "content": {media: {"schema": {"type": "string"}} for media in media_types}}}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": _REF}}}}


def describe_real_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Point every 422 of ``document`` at :class:`ErrorBody`, document the 400 of a body
    that cannot be decoded, and drop FastAPI's ``HTTPValidationError``/``ValidationError``
    schemas, which the hub never sends."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR_SCHEMA, ErrorBody.model_json_schema())
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            if "422" in responses:
                responses["422"] = _error_response(DESCRIPTIONS[422])
            for status, response in responses.items():
                # Errors are JSON even where the success is not (an HTML report, a CSV):
                # FastAPI would give them the route's own media type.
                if status.isdigit() and int(status) >= 400 and _REF in str(response):
                    responses[status] = _error_response(response["description"])
            if "requestBody" in operation and "400" not in responses:
                # FastAPI answers a body it cannot even decode (not UTF-8, a broken form)
                # with 400 before validation; the hub sends it as `bad_request`.
                responses["400"] = _error_response(UNPARSEABLE)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) describe the errors really sent."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI caches the document (and rebuilds it when routes change); the rewrite
        # is idempotent, so it is applied to whatever it returns.
        return describe_real_errors(generate())

    app.openapi = openapi  # type: ignore[method-assign]
