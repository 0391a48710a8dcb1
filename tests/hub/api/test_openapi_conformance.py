"""The hub's HTTP API against its own OpenAPI document (docs/hub.md, "What the API
guarantees").

Schemathesis reads the document and generates requests for every operation: its coverage
phase (boundary values, missing and wrong-typed fields, methods the path does not accept)
and a few random cases (fuzzing). They are sent to the hub in process (ASGI, no socket):
each coverage case as a caller the operation admits (anonymous on public routes), each
random case as an anonymous caller, an admin, a researcher and the admitted caller. Every
answer must be documented — no 5xx, a status the operation lists, a body matching the
declared schema (errors are ``ErrorBody``), a declared content type, a 405 with ``Allow``.
Bounded (:data:`EXAMPLES`) and derandomized, so CI sends the same requests every run.
Answers are typed (``response_model`` on every JSON route, unknown fields forbidden), so
the schema check compares each 2xx body field by field, as each authenticated caller.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from sqlalchemy import select

from hub.api.allow import iter_route_contexts
from hub.api.app import create_app
from hub.api.deps import authenticated_caller
from hub.api.responses import ERROR_SCHEMA, EVERY_ROUTE, TOKEN
from hub.db.engine import make_engine
from hub.db.models import ApiToken
from hub.keys import create_hub_keys
from hub.settings import HubSettings

#: Schemathesis gives this module's per-operation cases one shared test id, which
#: pytest-xdist runs only once, and they keep state from case to case: `make test` runs the
#: module in a serial pass of its own (-m fuzz).
pytestmark = pytest.mark.fuzz

#: Random cases per operation, on top of the coverage phase's deterministic ones.
EXAMPLES = 3
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, unsupported_method]
#: Who sends each random case (plus the operation's admitted caller).
ALWAYS = ("anonymous", "admin", "researcher")
#: The caller chosen for an operation admitting several roles, first match wins.
PREFERENCE = ("admin", "researcher", "governance", "steward", "auditor", "node")


def _document() -> dict[str, Any]:
    """The hub's OpenAPI document, from an app on an empty in-memory database: it depends
    only on the routes, and schemathesis needs it when the module is collected (its
    fixture-based loader does not work with this pytest)."""
    with tempfile.TemporaryDirectory() as directory:
        hub_dir = Path(directory) / "hub"
        keys = create_hub_keys(hub_dir)
        engine = make_engine("sqlite://")
        app = create_app(HubSettings.load(hub_dir, database_url="sqlite://"), keys=keys,
                         engine=engine, check_schema=False)
        document = app.openapi()
        engine.dispose()
        return document


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def _dependencies(route: APIRoute) -> Iterator[Any]:
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        yield dependant.call
        stack.extend(dependant.dependencies)


def _admitted(route: APIRoute) -> frozenset[str]:
    """The roles a route admits (``node`` for node tokens); empty for a public route."""
    for call in _dependencies(route):
        roles = getattr(call, "admitted_roles", None)
        if roles is not None:
            return frozenset(roles)
    return frozenset()


def _api_routes(app: Any) -> list[tuple[str, APIRoute]]:
    """(path, route) of every route in the document, included routers flattened."""
    routes = []
    for context in iter_route_contexts(app.router.routes):
        route = getattr(context, "original_route", context)
        if isinstance(route, APIRoute) and route.include_in_schema:
            routes.append((context.path, route))
    return routes


@pytest.fixture(scope="module")
def principals(module_hub: Any) -> dict[str, dict[str, str]]:
    """Headers of each caller: anonymous, a token of every role, an agency node."""
    headers = {"anonymous": {}, "admin": module_hub.auth(module_hub.admin_token),
               "node": module_hub.auth(module_hub.agencies["K12"].token)}
    for role in ("researcher", "governance", "auditor"):
        headers[role] = module_hub.auth(module_hub.token(role))
    headers["steward"] = module_hub.auth(module_hub.token("steward", agency="K12"))
    return headers


@pytest.fixture(scope="module")
def callers(module_hub: Any) -> dict[tuple[str, str], str]:
    """(METHOD, path template) → the caller that sends its coverage cases."""
    chosen = {}
    for path, route in _api_routes(module_hub.app):
        admitted = _admitted(route)
        caller = next((p for p in PREFERENCE if p in admitted), "anonymous")
        for method in route.methods:
            chosen[(method, path)] = caller
    return chosen


@pytest.fixture(scope="module")
def protected_tokens(module_hub: Any, principals: dict[str, dict[str, str]]) -> set[int]:
    """Ids of the tokens the principals hold: revoking one would turn the rest of the run
    into 401s, so a case naming one is not sent."""
    with module_hub.ctx.session_factory() as session:
        return set(session.scalars(select(ApiToken.id)))


def _names_one_of(value: Any, ids: set[int]) -> bool:
    """Whether a generated path value is read as one of ``ids`` (``"01"`` is 1)."""
    try:
        return int(str(value).strip()) in ids
    except ValueError:
        return False


@pytest.fixture(scope="module")
def statuses() -> dict[str, Counter[int]]:
    """The statuses each caller got across every operation (checked at the end)."""
    return {}


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_hub_api_every_answer_is_documented(
    case: Any, module_hub: Any, principals: dict[str, dict[str, str]],
    callers: dict[tuple[str, str], str], protected_tokens: set[int],
    statuses: dict[str, Counter[int]],
) -> None:
    if _names_one_of((case.path_parameters or {}).get("token_id"), protected_tokens):
        return
    admitted = callers[(case.operation.method.upper(), case.operation.path)]
    if case.method.upper() != case.operation.method.upper():
        senders: tuple[str, ...] = ("anonymous",)  # another method: 405 before any auth
    elif case.meta is not None and case.meta.phase.name.value == "coverage":
        senders = (admitted,)
    else:
        senders = tuple(dict.fromkeys((*ALWAYS, admitted)))
    for name in senders:
        response = case.call(app=module_hub.app, headers=principals[name])
        statuses.setdefault(name, Counter())[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=principals[name])
        if response.status_code == 405:  # schemathesis checks only that Allow is there
            allowed = {m.strip() for m in ",".join(response.headers["allow"]).split(",")}
            assert allowed == {m.upper() for m in DOCUMENT["paths"][case.operation.path]}
            assert response.json()["error"] == "method_not_allowed"


def test_hub_api_fuzz_reached_the_handlers(module_hub: Any,
                                          principals: dict[str, dict[str, str]],
                                          statuses: dict[str, Counter[int]]) -> None:
    # Runs after the fuzz above (same module): the callers' tokens stayed valid and the
    # generated requests got past validation, so the checks saw real answers.
    assert statuses, "run with test_hub_api_every_answer_is_documented"
    for name in ("admin", "researcher", "governance", "steward", "auditor"):
        assert module_hub.client.get("/v1/me", headers=principals[name]).status_code == 200
    for name in ("admin", "researcher", "node", "governance", "auditor"):
        succeeded = sum(n for status, n in statuses[name].items() if 200 <= status < 300)
        assert succeeded >= 3, (name, statuses[name])
    assert statuses["anonymous"][401] > 0 and statuses["anonymous"][405] > 0
    assert sum(statuses["researcher"][s] for s in (403, 404, 422)) > 0


def test_openapi_errors_are_the_hub_error_body() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas[ERROR_SCHEMA]["required"]) == {"error", "detail"}
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["content"] == {"application/json": {"schema": {
                        "$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}, (method, path)


def test_openapi_every_route_documents_what_its_dependencies_answer(module_hub: Any) -> None:
    checked = 0
    for path, route in _api_routes(module_hub.app):
        for method in route.methods:
            documented = {int(s) for s in DOCUMENT["paths"][path][method.lower()]["responses"]}
            assert documented >= EVERY_ROUTE, (method, path)
            if authenticated_caller in set(_dependencies(route)):
                assert documented >= TOKEN, (method, path)
            if route.param_convertors or route.dependant.body_params:
                assert 422 in documented, (method, path)
            checked += 1
    assert checked > 60


def test_method_not_allowed_lists_every_method_of_the_path(module_hub: Any) -> None:
    # GET and POST /v1/audit/checkpoints are two routes: Allow names both.
    response = module_hub.client.put("/v1/audit/checkpoints")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["error"] == "method_not_allowed"
    response = module_hub.client.request("OPTIONS", "/v1/requests/prj-1/runs/run-1")
    assert response.status_code == 405 and response.headers["allow"] == "GET"


def test_undecodable_body_is_a_documented_bad_request(module_hub: Any) -> None:
    # Not UTF-8: FastAPI refuses it before validation (found by the fuzz as an
    # undocumented 400 `http_error`); malformed JSON that decodes stays 422.
    response = module_hub.client.post("/v1/invitations/redeem", content=b"\xff\xfe{",
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error": "bad_request",
                               "detail": "There was an error parsing the body"}
    assert "400" in DOCUMENT["paths"]["/v1/invitations/redeem"]["post"]["responses"]
    response = module_hub.client.post("/v1/invitations/redeem", content=b"{bad",
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("caller, method, path", [
    ("admin", "DELETE", f"/v1/tokens/{2**70}"),
    ("governance", "POST", f"/v1/users/{2**31}/approve"),
    ("auditor", "GET", f"/v1/audit/events?after_seq={2**64}"),
    ("auditor", "GET", f"/v1/audit/tlog/leaves?start=0&end={2**63}"),
])
def test_out_of_range_numbers_refused_422_not_overflowed(
    module_hub: Any, principals: dict[str, dict[str, str]], caller: str, method: str,
    path: str,
) -> None:
    # Found by the fuzz: a 28-digit token id reached SQLite and overflowed its driver (500).
    response = module_hub.client.request(method, path, headers=principals[caller])
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
