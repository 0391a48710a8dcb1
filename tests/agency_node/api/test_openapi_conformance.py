"""The node's HTTP API against its own OpenAPI document (docs/agency-node.md, "What the
node API guarantees").

Schemathesis reads the document (:func:`agency_node.api.app.openapi_document`, the same as
the served app's: checked below) and generates requests for every operation: its coverage
phase (boundary values, missing and wrong-typed fields, methods the path does not accept)
and a few random cases. They are sent to a served node in process (ASGI, no socket), each
as generated (an anonymous caller: the signatures are junk) and, for the well-shaped bodies
of the signed routes, twice more with the generated message re-signed as the hub (or its
assembler) signs it — fresh, by the enrolled key — once as generated and once addressed to
this node's agency and approved project, so the node's checks after the signature see
them too. Every
answer must be documented: no 5xx, a status the operation lists, a body matching the
declared schema (errors are ``ErrorBody``), a declared content type, a 405 with an exact
``Allow``. Bounded (:data:`EXAMPLES`) and derandomized: CI generates the same cases each run.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from agency_node.api.app import create_app, openapi_document
from agency_node.api.responses import ERROR_SCHEMA, SIGNED_STATUSES
from agency_node.settings import NodeSettings
from protocol.errors import ProtocolError
from tests.agency_node.conftest import PROJECT, TestClient, governed_match, signed

#: Schemathesis gives this module's per-operation cases one shared test id, which
#: pytest-xdist runs only once, and they keep state from case to case: `make test` runs the
#: module in a serial pass of its own (-m fuzz).
pytestmark = pytest.mark.fuzz

#: Random cases per operation, on top of the coverage phase's deterministic ones.
EXAMPLES = 3
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, unsupported_method]
DOCUMENT = openapi_document("K12")
schema = schemathesis.openapi.from_dict(DOCUMENT)
MATCH = "/v1/match-requests"
#: Refusals that mean the signature itself was not accepted.
SIGNATURE_REFUSALS = frozenset({"bad_signature", "unknown_key", "expired"})


def _signers(hub: Any) -> dict[str, tuple[str, Ed25519PrivateKey]]:
    """Path → (envelope type, key) of the signed routes, as the hub side signs them."""
    return {MATCH: ("match_request", hub.signing),
            "/v1/extracts": ("extract_request", hub.assembly_signing),
            "/v1/witness/checkpoints": ("tlog_witness", hub.signing)}


@pytest.fixture(scope="module")
def node_app(served_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A served node (enrolled, loaded, PROJECT approved, roster pinned), started once."""
    node_dir = Path(shutil.copytree(served_template, tmp_path_factory.mktemp("fuzz") / "node"))
    app = create_app(NodeSettings.load(node_dir))
    with TestClient(app, raise_server_exceptions=False):
        yield app


@pytest.fixture(scope="module")
def seen() -> dict[str, Counter[Any]]:
    """What the fuzz got, by sender: statuses and error codes (checked at the end)."""
    return {}


def _resigned(body: Any, typ: str, key: Ed25519PrivateKey) -> dict[str, Any] | None:
    """The generated envelope's message signed afresh by ``key``; None when it has no
    message or one with no canonical form (the hub could not sign it either)."""
    if not isinstance(body, dict) or not isinstance(body.get("body"), dict):
        return None
    try:
        return dict(json.loads(signed(body["body"], typ, key)))
    except (ProtocolError, ValueError):
        return None


def _aimed(body: Any) -> Any:
    """The generated envelope with its message addressed to this node's agency and to the
    project its steward approved, so the checks after ``wrong_agency`` see it."""
    if not isinstance(body, dict) or not isinstance(body.get("body"), dict):
        return None
    message = dict(body["body"], agency="K12")
    if "project_id" in message:
        message["project_id"] = PROJECT
    return {**body, "body": message}


def _record(seen: dict[str, Counter[Any]], sender: str, response: Any) -> None:
    seen.setdefault(sender, Counter())[response.status_code] += 1
    if response.status_code >= 400:
        seen[sender][response.json()["error"]] += 1


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_node_api_every_answer_is_documented(case: Any, node_app: Any, hub: Any,
                                            seen: dict[str, Counter[Any]]) -> None:
    path = case.operation.path
    response = case.call(app=node_app)
    _record(seen, "anonymous", response)
    case.validate_response(response, checks=CHECKS)
    if response.status_code == 405:  # schemathesis checks only that Allow is there
        allowed = {m.strip() for m in ",".join(response.headers["allow"]).split(",")}
        assert allowed == {m.upper() for m in DOCUMENT["paths"][path]}
        assert response.json()["error"] == "method_not_allowed"
        return
    if case.method.upper() != "POST" or path not in _signers(hub):
        return
    if case.meta is not None and case.meta.generation.mode.name.lower() != "positive":
        return  # re-signed, a body of the wrong shape is only `malformed_message` again
    typ, key = _signers(hub)[path]
    generated = case.body
    for sender, message in (("signed", generated), ("aimed", _aimed(generated))):
        body = _resigned(message, typ, key)
        if body is None:
            continue
        case.body = body
        response = case.call(app=node_app)
        _record(seen, sender, response)
        case.validate_response(response, checks=CHECKS)


def test_node_api_fuzz_got_past_the_signatures(seen: dict[str, Counter[Any]]) -> None:
    # Runs after the fuzz above (same module): the re-signed requests were verified and
    # refused further on (wrong agency, not approved, malformed message…), so the checks
    # saw the answers of the node's later stages, not only signature refusals.
    assert seen, "run with test_node_api_every_answer_is_documented"
    anonymous, resigned = seen["anonymous"], seen["signed"]
    assert anonymous[200] > 0 and anonymous[405] > 0 and anonymous["unknown_key"] > 0
    past = sum(n for code, n in resigned.items()
               if isinstance(code, str) and code not in SIGNATURE_REFUSALS)
    assert past >= 10, resigned
    assert resigned[403] > 0, resigned
    # Addressed to this node and its approved project, some went further still (scope,
    # the checkpoint note, the quorum…).
    further = {code for code in seen["aimed"] if isinstance(code, str)} - SIGNATURE_REFUSALS
    assert further - {"wrong_agency", "malformed_message"}, seen["aimed"]


def test_openapi_document_is_the_served_apps(node_app: Any) -> None:
    assert node_app.openapi() == DOCUMENT


def test_openapi_errors_are_the_node_error_body() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas[ERROR_SCHEMA]["required"]) == {"error", "detail"}
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    (content,) = response["content"].values()
                    assert list(response["content"]) == ["application/json"], (method, path)
                    assert content["schema"]["$ref"].endswith(("/ErrorBody", "/NotReadyBody"))


def test_openapi_every_body_route_documents_its_refusals() -> None:
    # Every POST reads its own body (size first): 413 and 422 are always possible, and a
    # signed route can refuse at every stage of the gate (services/gate.py).
    posts = 0
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            documented = {int(s) for s in operation["responses"]}
            if method == "post":
                posts += 1
                assert operation["requestBody"]["required"] is True, path
                assert documented >= {413, 422, 503}, path
            if path in (MATCH, "/v1/extracts") or (method, path) == (
                    "post", "/v1/witness/checkpoints"):
                assert documented >= set(SIGNED_STATUSES), path
    assert posts == 5


def test_method_not_allowed_lists_every_method_of_the_path(node_app: Any) -> None:
    client = TestClient(node_app)
    # GET and POST /v1/witness/checkpoints are two routes: Allow names both.
    response = client.put("/v1/witness/checkpoints")
    assert response.status_code == 405 and response.headers["allow"] == "GET, POST"
    assert response.json()["error"] == "method_not_allowed"
    response = client.delete(MATCH)
    assert response.status_code == 405 and response.headers["allow"] == "POST"


def _mutations(hub: Any) -> dict[str, tuple[bytes, ...]]:
    """Name → the requests sent in turn; the last is the one judged."""
    good = governed_match(hub, ["grade_level", "gpa"])
    envelope = json.loads(good)
    flipped = envelope["sig"][:10] + ("A" if envelope["sig"][10] != "A" else "B") + \
        envelope["sig"][11:]
    tampered = json.loads(good)
    tampered["body"]["run_id"] = "run-2"
    fresh = json.loads(governed_match(hub, ["grade_level", "gpa"]))
    old = int(time.time()) - 3600
    expired = signed(fresh["body"], "match_request", hub.signing, now=old, ttl=300)
    stranger = signed(fresh["body"], "match_request", Ed25519PrivateKey.generate())
    by_assembler = signed(fresh["body"], "match_request", hub.assembly_signing)
    return {
        "bad_signature": (json.dumps({**envelope, "sig": flipped}).encode(),),
        "tampered": (json.dumps(tampered).encode(),),
        "replayed_nonce": (good, good),
        "expired": (expired,),
        "unknown_key": (stranger,),
        "wrong_signer": (by_assembler,),
    }


@pytest.mark.parametrize("mutation, status, code", [
    ("bad_signature", 401, "bad_signature"),
    ("tampered", 401, "bad_signature"),
    ("replayed_nonce", 409, "replayed_nonce"),
    ("expired", 401, "expired"),
    ("unknown_key", 401, "unknown_key"),
    ("wrong_signer", 403, "wrong_signer"),
])
def test_mutated_signed_match_request_refused_documented_4xx(
    node_app: Any, hub: Any, mutation: str, status: int, code: str,
) -> None:
    client = TestClient(node_app, raise_server_exceptions=False)
    *before, judged = _mutations(hub)[mutation]
    for body in before:  # the original of a replay is answered (a token stream)
        first = client.post(MATCH, content=body)
        assert first.status_code == 200, first.text
    response = client.post(MATCH, content=judged)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    operation = schema[MATCH]["POST"]
    case = operation.Case(body=json.loads(judged), media_type="application/json")
    case.validate_response(response, checks=CHECKS)
