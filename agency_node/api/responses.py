"""What the node's OpenAPI document says: the statuses each kind of route can answer, the
signed bodies it takes, and the error body it really sends.

Every error the node answers is :class:`ErrorBody` (``{"error": code, "detail": sentence}``,
:mod:`agency_node.api.errors`), always ``application/json``; ``/ready``'s 503 is
:class:`NotReadyBody`, the same two fields and the checks. Each route names the kind it is
(``responses=responses.SIGNED``) and the signed message it takes
(``openapi_extra=signed_body(MatchRequest)``), so a client — and
``tests/agency_node/api/test_openapi_conformance.py``, which fuzzes the node against the
document — knows every answer. The routes read their bodies themselves (size first, then
signature: :mod:`agency_node.services.gate`), so FastAPI would document neither the body
nor a 422; :func:`install_openapi` adds the message schemas and points any 422 FastAPI
adds at :class:`ErrorBody` (the node's validation handler never sends FastAPI's
``HTTPValidationError``). The node does not serve the document (docs/agency-node.md):
``app.openapi()`` builds it. The hub has its own module (hub/api/responses.py): the two
services never import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from protocol import PROTOCOL_VERSION
from protocol.signing import SignedEnvelope
from protocol.wire_types import Message

ERROR_SCHEMA = "ErrorBody"
NOT_READY_SCHEMA = "NotReadyBody"
_COMPONENTS = "#/components/schemas/"
_REF = f"{_COMPONENTS}{ERROR_SCHEMA}"


class ErrorBody(BaseModel):
    """Every error answer of the node."""

    error: str = Field(description="Stable machine-readable code, e.g. `bad_signature`, "
                       "`not_approved`, `store_unavailable` (docs/agency-node.md)")
    detail: str = Field(description="One sentence for a person; never a traceback or a "
                        "submitted value")


class NotReadyBody(ErrorBody):
    """``/ready`` when the node cannot answer the hub: which check failed."""

    status: str = Field(description="`not_ready`")
    checks: dict[str, str] = Field(description="Each check (`database`, `schema`, `keys`): "
                                   "`ok` or what is wrong")


#: What each status means on any route that documents it.
DESCRIPTIONS: dict[int, str] = {
    400: "Not JSON, not a signed envelope, another protocol version or message type, or a "
         "body that is not the expected message (`malformed_message`, …)",
    401: "Signed by a key that is not the enrolled one, a signature that does not verify, "
         "or an expired message (`unknown_key`, `bad_signature`, `expired`)",
    403: "An authentic request this node refuses: another signer, agency, project or scope "
         "than its steward approved, no governance quorum, revoked (`wrong_signer`, "
         "`not_approved`, `out_of_scope`, …)",
    409: "A replayed nonce, or a request that conflicts with what the node pinned or "
         "co-signed (`replayed_nonce`, `salt_mismatch`, `terms_mismatch`, `rollback`, …)",
    413: "The request body is larger than the node accepts here (`payload_too_large`)",
    422: "A body of the wrong shape, or a statement the node will not accept "
         "(`malformed_message`, `bad_salt`, `governance_refused`, …)",
    503: "The node store cannot take the request now (`store_unavailable`); `Retry-After` "
         "says when to retry",
}
#: Statuses a signed hub request (match, extract, witness) can be refused with; 429
#: (`replay_guard_full`) is not among them: the node keeps nonces in its store, which
#: never fills up.
SIGNED_STATUSES = (400, 401, 403, 409, 413, 422, 503)


def _error(description: str, schema: str = ERROR_SCHEMA) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"{_COMPONENTS}{schema}"}}}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A ``responses=`` mapping: each of ``statuses`` an :class:`ErrorBody` (JSON, whatever
    the route's own media type) with its :data:`DESCRIPTIONS` line."""
    return {status: _error(DESCRIPTIONS[status]) for status in sorted(set(statuses))}


def ok_as(*media_types: str, description: str = "Successful Response"
          ) -> dict[int | str, dict[str, Any]]:
    """The 200 of a route that answers in ``media_types`` other than JSON."""
    return {200: {"description": description,
                  "content": {media: {"schema": {"type": "string"}} for media in media_types}}}


#: Routes that answer from memory and configuration: health, dictionary.
NONE: dict[int | str, dict[str, Any]] = {}
#: Anonymous routes that read the store.
STORE = errors(503)
#: Signed requests from the hub or its assembler (docs/agency-node.md, "The service").
SIGNED = errors(*SIGNED_STATUSES)
#: Self-authenticating governance statements the hub relays (roster, revocation).
STATEMENT = errors(413, 422, 503)
#: ``/metrics``: the Prometheus text format, or 401 without the metrics token.
METRICS: dict[int | str, dict[str, Any]] = {
    **ok_as("text/plain", description="Prometheus text exposition format"), **errors(401)}
#: ``/ready``: 503 with the checks when the node cannot answer the hub.
READY: dict[int | str, dict[str, Any]] = {
    503: _error("The node cannot answer the hub now: `not_ready`, with each check",
                NOT_READY_SCHEMA)}

#: JSON schemas the request bodies refer to, by component name (filled by the routes'
#: :func:`signed_body` and :func:`json_body` at import, added by :func:`install_openapi`).
_BODY_SCHEMAS: dict[str, dict[str, Any]] = {}


def _component(model: type[BaseModel]) -> str:
    schema = model.model_json_schema(ref_template=_COMPONENTS + "{model}")
    for name, definition in schema.pop("$defs", {}).items():
        _BODY_SCHEMAS.setdefault(name, definition)
    _BODY_SCHEMAS.setdefault(model.__name__, schema)
    return model.__name__


def _request_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


def signed_body(message: type[Message]) -> dict[str, Any]:
    """``openapi_extra`` of a route taking ``message`` in a signed envelope
    (docs/protocol.md): the envelope's ``v`` is the protocol version the node speaks, its
    ``typ`` the message's, its ``body`` the message."""
    envelope = SignedEnvelope.model_json_schema()
    typ = message.TYP
    envelope["title"] = name = f"Signed{message.__name__}"
    envelope["properties"] = {**envelope["properties"],
                              "v": {"const": PROTOCOL_VERSION, "type": "string"},
                              "typ": {"const": typ, "type": "string"},
                              "body": {"$ref": _COMPONENTS + _component(message)}}
    _BODY_SCHEMAS.setdefault(name, envelope)
    return _request_body({"$ref": _COMPONENTS + name})


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of a route taking ``model`` as plain JSON."""
    return _request_body({"$ref": _COMPONENTS + _component(model)})


def describe_real_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Add the error and body schemas to ``document``, point every 422 at
    :class:`ErrorBody` and drop FastAPI's ``HTTPValidationError``/``ValidationError``
    schemas, which the node never sends."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR_SCHEMA, ErrorBody.model_json_schema())
    schemas.setdefault(NOT_READY_SCHEMA, NotReadyBody.model_json_schema())
    for name, schema in _BODY_SCHEMAS.items():
        schemas.setdefault(name, schema)
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            if "422" in responses:
                responses["422"] = _error(DESCRIPTIONS[422])
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the bodies taken and the errors really sent."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI caches the document; the rewrite is idempotent.
        return describe_real_errors(generate())

    app.openapi = openapi  # type: ignore[method-assign]
