"""Project-bound keys at the node (issue 13, attack 1): one canonical 32-byte salt, the
request's project terms must list what this agency's steward approved, and the same salt
used for two projects — even at two nodes that each see it once — gives disjoint tokens."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
from fastapi.testclient import TestClient

from agency_node.api.app import create_app
from agency_node.runtime import NodeRuntime
from agency_node.settings import NodeSettings
from agency_node.store.models import AuditEvent
from protocol.canonical import b64url_decode, b64url_encode

URL = "/v1/match-requests"
TYP = "match_request"


def _post(api: TestClient, data: bytes) -> Any:
    return api.post(URL, content=data, headers={"Content-Type": "application/json"})


def _refused(response: Any, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and body["detail"]
    return body


def _tokens(response: Any) -> set[bytes]:
    assert response.status_code == 200, response.text
    table = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()
    out: set[bytes] = set()
    for name in table.column_names:
        if name.startswith(("mk_", "bk_")):
            for tokens in table.column(name).to_pylist():
                out.update(tokens)
    return out


def test_match_request_padded_salt_refused(
    served_node: Path, api: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    padded = b64url_encode(b64url_decode(wire.SALT) + b"\x00")  # the HMAC-padding alias
    response = _post(api, wire.signed(wire.match_body(project_salt=padded), TYP, hub.signing))
    refusal = _refused(response, 422, "bad_salt")
    assert "32 bytes" in refusal["detail"]
    with NodeRuntime.open(served_node) as runtime, runtime.sessions() as session:
        last = session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
    assert last is not None and (last.outcome, last.reason) == ("refused", "bad_salt")


def test_match_request_short_salt_refused(api: TestClient, hub: Any, wire: SimpleNamespace) -> None:
    short = b64url_encode(b"s" * 24)
    response = _post(api, wire.signed(wire.match_body(project_salt=short), TYP, hub.signing))
    _refused(response, 422, "bad_salt")


def test_padded_salt_refused_even_after_the_plain_salt_was_pinned(
    api: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    assert _post(api, wire.signed(wire.match_body(), TYP, hub.signing)).status_code == 200
    padded = b64url_encode(b64url_decode(wire.SALT) + b"\x00")
    body = wire.match_body(project_id="P-2026-001", project_salt=padded)
    _refused(_post(api, wire.signed(body, TYP, hub.signing)), 422, "bad_salt")


def test_match_request_project_terms_with_other_digest_refused(
    api: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    body = wire.match_body()
    body["project_terms"]["agencies"] = [
        {"agency": "DSS", "terms_digest": "11" * 32}, {"agency": "K12", "terms_digest": "33" * 32}
    ]
    refusal = _refused(_post(api, wire.signed(body, TYP, hub.signing)), 409, "terms_mismatch")
    assert "steward approved" in refusal["detail"]


def test_match_request_project_terms_with_other_term_refused(
    api: TestClient, hub: Any, wire: SimpleNamespace
) -> None:
    body = wire.match_body()
    body["project_terms"]["term_end"] = "2099-12-31"
    _refused(_post(api, wire.signed(body, TYP, hub.signing)), 409, "terms_mismatch")


def test_same_salt_at_two_nodes_for_two_projects_gives_disjoint_tokens(
    served_template: Path, tmp_path: Path, hub: Any, wire: SimpleNamespace
) -> None:
    """The hub reuses the salt node A pinned for P3 at node B for P4: node B cannot know
    (it never saw P3), but the tokens are under P4's keys, so nothing joins."""
    node_a = Path(shutil.copytree(served_template, tmp_path / "a"))
    node_b = Path(shutil.copytree(served_template, tmp_path / "b"))  # same secret, records
    with NodeRuntime.open(node_b) as runtime:
        wire.approve_locally(runtime, wire.make_terms(project_id="P-2026-004"))
    with TestClient(create_app(NodeSettings.load(node_a))) as api_a:
        p3 = _tokens(_post(api_a, wire.signed(wire.match_body(), TYP, hub.signing)))
    with TestClient(create_app(NodeSettings.load(node_b))) as api_b:
        body = wire.match_body(project_id="P-2026-004")  # the salt P-2026-001 has at node A
        p4 = _tokens(_post(api_b, wire.signed(body, TYP, hub.signing)))
        again = _tokens(_post(api_b, wire.signed(body, TYP, hub.signing)))
    assert p3 and p4 and not p3 & p4
    assert again == p4  # the same project's tokens are stable: it is the binding, not noise
