"""The node refuses an extract request whose declared options (k, unmatched handling,
small-class policy) are not the ones inside the terms its steward signed."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from agency_node.runtime import NodeRuntime
from agency_node.store.models import AuditEvent

SIGNED = {"include_unmatched": False, "k_anonymity": 5, "quasi_identifier_policy": "generalise"}


@pytest.fixture
def pids(api: TestClient, hub: Any, wire: SimpleNamespace, served_node: Path) -> list[str]:
    """Pids issued under the template's approval, then the steward approves terms that
    state the extract options (as the hub serves them now)."""
    envelope = wire.signed(wire.match_body(), "match_request", hub.signing)
    response = api.post("/v1/match-requests", content=envelope)
    assert response.status_code == 200, response.text
    issued = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()["pid"].to_pylist()
    with NodeRuntime.open(served_node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(extract=SIGNED))
    return list(issued)


def _ask(api: TestClient, hub: Any, wire: SimpleNamespace, pids: list[str],
         **overrides: Any) -> Any:
    body = wire.extract_body([(pid, f"person-{n}") for n, pid in enumerate(pids)],
                             hub.assembly_kid, **overrides)
    return api.post("/v1/extracts", content=wire.signed(body, "extract_request",
                                                        hub.assembly_signing))


def test_extract_request_with_the_signed_options_answered(api: TestClient, hub: Any,
                                                           wire: SimpleNamespace,
                                                           pids: list[str]) -> None:
    response = _ask(api, hub, wire, pids, extract=SIGNED)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("declared", [
    {**SIGNED, "k_anonymity": 2},
    {**SIGNED, "include_unmatched": True},
    {**SIGNED, "quasi_identifier_policy": "suppress"},
    None,
], ids=["lower_k", "unmatched", "policy", "undeclared"])
def test_extract_request_with_other_options_refused_out_of_scope(
        api: TestClient, hub: Any, wire: SimpleNamespace, pids: list[str], served_node: Path,
        declared: dict[str, Any] | None) -> None:
    response = _ask(api, hub, wire, pids, extract=declared)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "out_of_scope"
    assert "extract options differ" in response.json()["detail"]
    with NodeRuntime.open(served_node) as runtime, runtime.sessions() as session:
        reasons = session.scalars(select(AuditEvent.reason).where(
            AuditEvent.typ == "extract_request")).all()
    assert reasons[-1] == "out_of_scope"
