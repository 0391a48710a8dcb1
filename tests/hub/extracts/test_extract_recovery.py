"""Extracts whose assembler died mid-build: retried (bounded) or failed ``interrupted`` by
the sweep, partial files shredded; node failures on extract requests retried like match
requests. The kill -9 of a real ``fedlink hub assembler run`` process is in
test_extract_recovery_e2e.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.domain.roles import OPERATOR
from hub.persistence import audit as audit_store
from hub.persistence import extracts as extract_store
from hub.services.extract_build import JOB_KIND, MAX_BUILD_ATTEMPTS
from hub.services.extract_destruction import sweep
from hub.services.jobs import JobQueue

Federation = Any  # tests/hub/extracts/conftest.py


@pytest.fixture
def fed(federation: Federation) -> Iterator[Federation]:
    federation.hub.app.state.node_transport = federation.transport()
    federation.hub.clock.offset = dt.timedelta()
    settings = federation.hub.ctx.settings
    backoff = settings.node_retry_backoff_seconds
    settings.node_retry_backoff_seconds = 0  # retries at once: the test needs no waiting
    yield federation
    settings.node_retry_backoff_seconds = backoff
    federation.hub.clock.offset = dt.timedelta()


def _request(fed: Federation) -> str:
    """``POST /v1/extracts`` on a fresh ready project: the extract id (``building``)."""
    project, _, _ = fed.ready_project()
    response = fed.hub.client.post("/v1/extracts", json={"project_id": project},
                                   headers=fed.hub.auth(fed.researcher[1]))
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _extract(fed: Federation, extract_id: str) -> Any:
    with fed.hub.ctx.session_factory() as session:
        return extract_store.get_extract(session, extract_id=extract_id)


def _partial(fed: Federation, extract_id: str) -> Path:
    """What a killed attempt leaves: the start of the bundle, never recorded."""
    path = fed.hub.ctx.settings.dir / "extracts" / f"{extract_id}.flx"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_bytes(b"\x00partial ciphertext" * 64)
    return path


def _dead_claim(fed: Federation) -> None:
    """An assembler claims the build (60 s lease), writes part of the file and dies."""
    queue = JobQueue(fed.hub.ctx.session_factory, clock=fed.hub.ctx.now)
    assert queue.claim("assembler:dead", [JOB_KIND], lease_seconds=60) is not None
    fed.hub.clock.offset += dt.timedelta(seconds=61)  # it never renews: the lease runs out


def _events(fed: Federation, action: str, extract_id: str) -> list[Any]:
    with fed.hub.ctx.session_factory() as session:
        rows = audit_store.search_events(session, action=action, limit=1000)[0]
    return [e for e in rows if e.object_id == extract_id]


def test_build_whose_assembler_died_is_retried_and_the_partial_file_replaced(
        fed: Federation) -> None:
    extract_id = _request(fed)
    _dead_claim(fed)
    partial = _partial(fed, extract_id)
    # The sweep requeues the job (attempts are left): the extract keeps ``building``.
    assert sweep(fed.hub.ctx, OPERATOR)["extracts_interrupted"] == []
    assert _extract(fed, extract_id).status == "building"
    fed.hub.clock.offset = dt.timedelta()  # back to the nodes' time (they check expiry)

    assert fed.hub.assemble(fed.transport()) == 1

    extract = _extract(fed, extract_id)
    assert extract.status == "available" and extract.file_name == f"{extract_id}.flx"
    assert partial.read_bytes()[:1] != b"\x00"  # the new bundle, not the dead attempt's
    assert len(_events(fed, "extract.built", extract_id)) == 1


def test_build_interrupted_with_no_attempts_left_fails_named_and_shreds_the_file(
        fed: Federation) -> None:
    extract_id = _request(fed)
    for _ in range(MAX_BUILD_ATTEMPTS):
        _dead_claim(fed)
    partial = _partial(fed, extract_id)

    done = sweep(fed.hub.ctx, OPERATOR)

    assert done["extracts_interrupted"] == [extract_id]
    extract = _extract(fed, extract_id)
    assert (extract.status, extract.failure_code) == ("failed", "interrupted")
    assert "assembler:dead stopped renewing its lease" in extract.failure_reason
    assert f"gave up after {MAX_BUILD_ATTEMPTS} of {MAX_BUILD_ATTEMPTS}" in \
        extract.failure_reason
    assert not partial.exists()
    [event] = _events(fed, "extract.failed", extract_id)
    assert event.outcome == "refused:interrupted"
    assert event.detail["attempts"] == MAX_BUILD_ATTEMPTS
    assert event.detail["partial_file_bytes"] > 0
    again = sweep(fed.hub.ctx, OPERATOR)  # idempotent: nothing more, nothing appended
    assert again["extracts_interrupted"] == [] and again["files_shredded"] == []
    assert len(_events(fed, "extract.failed", extract_id)) == 1


def test_extract_failed_by_an_earlier_hub_keeps_no_partial_file(fed: Federation) -> None:
    """A ``failed`` extract never recorded a file name; its partial bundle is still found."""
    extract_id = _request(fed)
    for _ in range(MAX_BUILD_ATTEMPTS):
        _dead_claim(fed)
    sweep(fed.hub.ctx, OPERATOR)
    partial = _partial(fed, extract_id)  # e.g. written by an attempt the sweep raced
    assert extract_id in sweep(fed.hub.ctx, OPERATOR)["files_shredded"]
    assert not partial.exists()


def test_a_running_build_is_never_touched_by_the_sweep(fed: Federation) -> None:
    extract_id = _request(fed)
    queue = JobQueue(fed.hub.ctx.session_factory, clock=fed.hub.ctx.now)
    job = queue.claim("assembler:alive", [JOB_KIND], lease_seconds=60)
    assert job is not None
    partial = _partial(fed, extract_id)  # being written right now
    assert sweep(fed.hub.ctx, OPERATOR)["extracts_interrupted"] == []
    assert _extract(fed, extract_id).status == "building" and partial.exists()
    # An operator cancels the job: nothing will finish the extract any more.
    queue.cancel(job.id, "cancelled by the operator")
    assert sweep(fed.hub.ctx, OPERATOR)["extracts_interrupted"] == [extract_id]
    extract = _extract(fed, extract_id)
    assert extract.failure_code == "interrupted"
    assert "cancelled by the operator" in extract.failure_reason and not partial.exists()


class Flaky(httpx.BaseTransport):
    """Answers extract requests with ``answer`` ``failures`` times, then passes them on."""

    def __init__(self, inner: httpx.BaseTransport, failures: int,
                 answer: Any) -> None:
        self.inner, self.failures, self.answer = inner, failures, answer
        self.extract_calls = 0
        self.nonces: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/extracts":
            return self.inner.handle_request(request)
        self.extract_calls += 1
        self.nonces.append(str(httpx.Response(200, content=request.read()).json()["nonce"]))
        if self.extract_calls <= self.failures:
            if isinstance(self.answer, Exception):
                raise self.answer
            return httpx.Response(self.answer, json={"error": "busy", "detail": "try later"})
        return self.inner.handle_request(request)


@pytest.mark.parametrize("answer", [503, httpx.ConnectError("connection refused")],
                         ids=["5xx", "unreachable"])
def test_extract_request_node_failure_is_retried_with_a_fresh_nonce(
        fed: Federation, answer: Any) -> None:
    extract_id = _request(fed)
    flaky = Flaky(fed.transport(), failures=2, answer=answer)
    assert fed.hub.assemble(flaky) == 1
    assert _extract(fed, extract_id).status == "available"
    agencies = len(fed.nodes)
    assert flaky.extract_calls == 2 + agencies
    assert len(set(flaky.nonces)) == len(flaky.nonces)  # each try freshly signed


def test_extract_request_refused_by_a_node_is_not_retried(fed: Federation) -> None:
    extract_id = _request(fed)
    flaky = Flaky(fed.transport(), failures=1, answer=403)
    assert fed.hub.assemble(flaky) == 1
    extract = _extract(fed, extract_id)
    assert (extract.status, extract.failure_code) == ("failed", "busy")
    assert flaky.extract_calls == 1


def test_extract_request_node_down_gives_up_after_bounded_retries(fed: Federation) -> None:
    extract_id = _request(fed)
    flaky = Flaky(fed.transport(), failures=100, answer=503)
    assert fed.hub.assemble(flaky) == 1
    extract = _extract(fed, extract_id)
    assert (extract.status, extract.failure_code) == ("failed", "node_error")
    tries = fed.hub.ctx.settings.node_retries + 1
    assert f"gave up after {tries} attempts" in extract.failure_reason
    assert flaky.extract_calls == tries


def test_attempt_that_lost_its_lease_records_nothing_and_drops_its_file(
        fed: Federation) -> None:
    from hub.assembly.build import assemble_extract, assembler_caller

    extract_id = _request(fed)
    with fed.client() as client:
        extract = assemble_extract(fed.hub.assembler(), assembler_caller("assembler:old"),
                                   extract_id=extract_id, client=client,
                                   fence=lambda _session: False)  # the lease was taken over
    assert extract is not None and extract.status == "building"
    assert not (fed.hub.ctx.settings.dir / "extracts" / f"{extract_id}.flx").exists()
    assert _events(fed, "extract.built", extract_id) == []
    with fed.hub.ctx.session_factory() as session:
        assert extract_store.get_key(session, extract_id=extract_id) is None
    assert fed.hub.assemble(fed.transport()) == 1  # the live attempt builds it
    assert _extract(fed, extract_id).status == "available"


def test_attempt_that_lost_its_lease_leaves_the_newer_attempts_file(fed: Federation) -> None:
    from hub.assembly.build import assemble_extract, assembler_caller

    extract_id = _request(fed)
    path = fed.hub.ctx.settings.dir / "extracts" / f"{extract_id}.flx"

    def taken_over(_session: Any) -> bool:
        path.unlink()  # the newer attempt shredded this one's file and writes its own
        path.write_bytes(b"newer attempt")
        return False

    with fed.client() as client:
        assemble_extract(fed.hub.assembler(), assembler_caller("assembler:old"),
                         extract_id=extract_id, client=client, fence=taken_over)
    assert path.read_bytes() == b"newer attempt"
    path.unlink()
    assert fed.hub.assemble(fed.transport()) == 1
