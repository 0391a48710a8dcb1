"""POST /v1/match-requests: the streamed token batches, and one refusal test per reason."""

from __future__ import annotations

import io
import time
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from agency_node.runtime import NodeRuntime
from agency_node.services.audit import AuditLog
from agency_node.store.models import AuditEvent
from protocol.canonical import b64url_encode
from protocol.encoding import token_batch_schema
from protocol.keys import pseudonymous_id

URL = "/v1/match-requests"
TYP = "match_request"


def _post(api: TestClient, data: bytes) -> object:
    return api.post(URL, content=data, headers={"Content-Type": "application/json"})


def _refused(response: object, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert body["detail"]
    return body


def _last_event(node_dir: Path) -> AuditEvent:
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        return session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()


def test_match_request_streams_token_batches_for_approved_project(
    api: TestClient, served_node: Path, hub: object, wire: SimpleNamespace
) -> None:
    response = _post(api, wire.signed(wire.match_body(), TYP, hub.signing))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()
    assert table.schema.equals(token_batch_schema())
    with NodeRuntime.open(served_node) as runtime:
        pseudonym_key = (served_node / "pseudonym.key").read_bytes()
        assert runtime.settings.agency == "K12"
    expected = {pseudonymous_id(pseudonym_key, wire.PROJECT, f"K12-000{i}") for i in (1, 2, 3, 4)}
    assert set(table.column("pid").to_pylist()) == expected
    assert any(len(tokens) for tokens in table.column("mk_name_dob_sex").to_pylist())
    event = _last_event(served_node)
    assert (event.typ, event.outcome, event.details["records"]) == (TYP, "answered", 4)


def test_match_response_holds_no_identity_value_or_local_id(
    api: TestClient, hub: object, wire: SimpleNamespace, source_csv: Path
) -> None:
    response = _post(api, wire.signed(wire.match_body(), TYP, hub.signing))
    assert response.status_code == 200
    content = response.content.upper()
    rows = [line.split(",") for line in source_csv.read_text().splitlines()[1:]]
    identity_columns = range(0, 8)  # record_id … postal_code
    needles = {row[i] for row in rows for i in identity_columns if len(row[i]) >= 4}
    needles |= {n.replace("-", "").replace("/", "") for n in needles}
    needles |= {"GARCIA", "LOPEZ", "MARIA", "WILLIAM", "OBRIEN", "NGUYEN", "DESHAWN",
                "WASHINGTON", "2004-03-07", "20040307", "223456780", "078051121", "345678902"}
    assert needles, "the scan must have something to look for"
    for needle in needles:
        assert needle.upper().encode() not in content, needle


def test_match_request_only_sends_the_requested_years(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    body = wire.match_body(scope={"first_year": 2020, "last_year": 2020})
    response = _post(api, wire.signed(body, TYP, hub.signing))
    table = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()
    assert table.num_rows == 2  # K12-0002 and K12-0003 are the 2020 records


# --- the refusal matrix: one reason per test ---------------------------------------------


def test_match_request_bad_signature_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    envelope = wire.signed(wire.match_body(), TYP, hub.signing)
    tampered = envelope.replace(b'"run-1"', b'"run-2"')
    assert tampered != envelope
    _refused(_post(api, tampered), 401, "bad_signature")


def test_match_request_signed_by_unenrolled_key_refused(
    api: TestClient, wire: SimpleNamespace
) -> None:
    intruder = Ed25519PrivateKey.generate()
    _refused(_post(api, wire.signed(wire.match_body(), TYP, intruder)), 401, "unknown_key")


def test_match_request_expired_refused(api: TestClient, hub: object, wire: SimpleNamespace) -> None:
    old = int(time.time()) - 3600
    _refused(_post(api, wire.signed(wire.match_body(), TYP, hub.signing, now=old)), 401,
             "expired")


def test_match_request_replayed_nonce_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    envelope = wire.signed(wire.match_body(), TYP, hub.signing)
    assert _post(api, envelope).status_code == 200
    _refused(_post(api, envelope), 409, "replayed_nonce")


def test_match_request_replay_refused_after_restart(
    served_node: Path, hub: object, wire: SimpleNamespace
) -> None:
    from agency_node.api.app import create_app
    from agency_node.settings import NodeSettings

    envelope = wire.signed(wire.match_body(), TYP, hub.signing)
    for expected in (200, 409):
        with TestClient(create_app(NodeSettings.load(served_node))) as fresh:
            assert _post(fresh, envelope).status_code == expected


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[1,2,3]", b'{"v": "fedlink/1"}', b"\xff\xfe", b'{"a":' * 100],
    ids=["empty", "not_json", "array", "not_envelope", "not_utf8", "deep"],
)
def test_match_request_malformed_refused(api: TestClient, data: bytes) -> None:
    _refused(_post(api, data), 400, "malformed_message")


def test_match_request_malformed_body_in_valid_envelope_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    _refused(_post(api, wire.signed({"project_id": wire.PROJECT}, TYP, hub.signing)), 400,
             "malformed_message")


def test_match_request_oversized_refused_before_parsing(api: TestClient, served_node: Path) -> None:
    response = _post(api, b"{" + b" " * (1024 * 1024 + 10) + b"}")
    _refused(response, 413, "payload_too_large")
    assert _last_event(served_node).reason == "payload_too_large"


def test_match_request_oversized_chunked_refused(api: TestClient) -> None:
    def chunks():
        for _ in range(20):
            yield b" " * 65536 * 2

    response = api.post(URL, content=chunks())
    _refused(response, 413, "payload_too_large")


def test_match_request_not_approved_locally_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    # The hub signs a perfectly valid request for a project it says is approved; this
    # node's steward never approved it.
    body = wire.match_body(project_id="P-2026-999")
    _refused(_post(api, wire.signed(body, TYP, hub.signing)), 403, "not_approved")


def test_match_request_denied_project_refused(
    served_node: Path, api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    with NodeRuntime.open(served_node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(), decision="deny")
    _refused(_post(api, wire.signed(wire.match_body(), TYP, hub.signing)), 403, "not_approved")


def test_match_request_out_of_scope_variable_refused_by_name(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    body = wire.match_body(scope={"variables": ["grade_level", "ell"]})
    refusal = _refused(_post(api, wire.signed(body, TYP, hub.signing)), 403, "out_of_scope")
    assert "'ell'" in refusal["detail"]


def test_match_request_out_of_scope_year_refused_by_name(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    body = wire.match_body(scope={"first_year": 2018})
    refusal = _refused(_post(api, wire.signed(body, TYP, hub.signing)), 403, "out_of_scope")
    assert "2018" in refusal["detail"]


def test_match_request_other_cohort_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    cohort = {"conditions": [{"kind": "equals", "variable": "grade_level", "value": 9}]}
    body = wire.match_body(scope={"cohort": cohort})
    _refused(_post(api, wire.signed(body, TYP, hub.signing)), 403, "out_of_scope")


def test_match_request_term_expired_refused(
    served_node: Path, api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    with NodeRuntime.open(served_node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(term_start="2020-01-01",
                                                      term_end="2021-12-31"))
    body = wire.match_body(scope={"term_start": "2020-01-01", "term_end": "2021-12-31"})
    refusal = _refused(_post(api, wire.signed(body, TYP, hub.signing)), 403, "term_expired")
    assert "2021-12-31" in refusal["detail"]


def test_match_request_matching_not_authorised_refused(
    served_node: Path, api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    with NodeRuntime.open(served_node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(matching_authorised=False))
    body = wire.match_body()
    _refused(_post(api, wire.signed(body, TYP, hub.signing)), 403, "matching_not_authorised")


def test_match_request_salt_mismatch_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    assert _post(api, wire.signed(wire.match_body(), TYP, hub.signing)).status_code == 200
    other = wire.match_body(project_salt=b64url_encode(b"t" * 32))
    _refused(_post(api, wire.signed(other, TYP, hub.signing)), 409, "salt_mismatch")


def test_match_request_for_another_agency_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    body = wire.match_body(agency="HIGHERED", scope={"agency": "HIGHERED"})
    _refused(_post(api, wire.signed(body, TYP, hub.signing)), 403, "wrong_agency")


def test_match_request_of_wrong_type_refused(
    api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    _refused(_post(api, wire.signed(wire.match_body(), "extract_request", hub.signing)), 400,
             "wrong_message_type")


def test_every_refusal_is_audited_and_chain_intact(
    api: TestClient, served_node: Path, wire: SimpleNamespace
) -> None:
    intruder = Ed25519PrivateKey.generate()
    _post(api, wire.signed(wire.match_body(), TYP, intruder))
    _post(api, b"garbage")
    with NodeRuntime.open(served_node) as runtime:
        report = AuditLog(runtime.sessions).verify()
        with runtime.sessions() as session:
            events = session.query(AuditEvent).order_by(AuditEvent.seq).all()
    assert [e.reason for e in events[-2:]] == ["unknown_key", "malformed_message"]
    assert all(e.outcome == "refused" for e in events[-2:])
    assert report.events == len(events)


def test_match_request_sends_only_the_approved_cohort(
    served_node: Path, api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    cohort = {"conditions": [{"kind": "range", "variable": "grade_level", "minimum": 9}]}
    with NodeRuntime.open(served_node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(cohort=cohort))
    body = wire.match_body(scope={"cohort": cohort})
    response = _post(api, wire.signed(body, TYP, hub.signing))
    assert response.status_code == 200
    table = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()
    assert table.num_rows == 3  # grades 9, 10 and 12; the 8th grader is outside the cohort


def test_unexpected_error_is_a_generic_json_500_without_traceback(
    api: TestClient, hub: object, wire: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals K12-0001")

    monkeypatch.setattr("agency_node.api.routes.match_requests.authorise_match", explode)
    response = _post(api, wire.signed(wire.match_body(), TYP, hub.signing))
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error",
                               "detail": "the node could not answer this request"}
    assert b"K12-0001" not in response.content and b"Traceback" not in response.content


def test_match_request_reusing_another_projects_salt_refused(
    served_node: Path, api: TestClient, hub: object, wire: SimpleNamespace
) -> None:
    assert _post(api, wire.signed(wire.match_body(), TYP, hub.signing)).status_code == 200
    with NodeRuntime.open(served_node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(project_id="P-2026-002"))
    body = wire.match_body(project_id="P-2026-002")  # same salt as P-2026-001
    refusal = _refused(_post(api, wire.signed(body, TYP, hub.signing)), 409, "salt_mismatch")
    assert "another project" in refusal["detail"]


@pytest.mark.slow
def test_match_stream_in_worker_processes_sends_what_one_process_sends(
    served_node: Path, api: TestClient, hub: object, wire: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch, worker_pool,
) -> None:
    """Store pages of two records, cohort-filtered, encoded by the worker pool: the same
    rows as in this process, and every pid sent is remembered."""
    from agency_node.services import match
    from agency_node.store.models import IssuedPid

    cohort = {"conditions": [{"kind": "range", "variable": "grade_level", "minimum": 9}]}
    with NodeRuntime.open(served_node) as runtime:
        wire.approve_locally(runtime, wire.make_terms(cohort=cohort))

    def stream() -> pa.Table:
        body = wire.match_body(scope={"cohort": cohort})
        response = _post(api, wire.signed(body, TYP, hub.signing))
        assert response.status_code == 200, response.text
        return pa.ipc.open_stream(io.BytesIO(response.content)).read_all()

    monkeypatch.setattr(match, "DEFAULT_CHUNK_SIZE", 2)
    in_process = stream()
    fanned_out = worker_pool()
    in_workers = stream()
    assert fanned_out == [2]  # the worker pool really ran
    assert in_workers.num_rows == 3
    assert in_workers.to_batches()[0].num_rows <= 2
    assert in_workers.combine_chunks().equals(in_process.combine_chunks())
    with NodeRuntime.open(served_node) as runtime, runtime.sessions() as session:
        remembered = {p.pid for p in session.query(IssuedPid).filter_by(project_id=wire.PROJECT)}
    assert set(in_workers.column("pid").to_pylist()) <= remembered
