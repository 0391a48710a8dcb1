"""Ask every agency node of a linkage run for its token batches, concurrently.

For each agency the hub signs a :class:`protocol.wire.MatchRequest` with its signing key
(a fresh envelope, so a fresh nonce, for every attempt) and posts it to
``{node}/v1/match-requests`` (docs/protocol.md). The answer is read as it arrives: the
response body is handed to ``pyarrow.ipc.open_stream`` as a file, so batches are decoded
while the rest is still on the wire. The stream must be exactly
:func:`protocol.encoding.token_batch_schema` (fields, types and protocol metadata) —
anything else is refused, never guessed at.

Retries: connection errors, timeouts, broken streams and 5xx answers are tried again
(``retries`` more times, exponential backoff) because they can pass; a 4xx is the node
*refusing* (not approved, out of scope, salt mismatch…) and is final at once. Every failure
is a :class:`hub.errors.NodeRequestError` naming the agency and the reason. The first node
to fail stops the others (``stop`` is shared), so a run fails fast.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from threading import Event
from typing import Final

import httpx
import pyarrow as pa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.errors import NodeRequestError
from protocol.encoding import token_batch_schema
from protocol.signing import sign
from protocol.wire import MatchRequest

ARROW_STREAM: Final = "application/vnd.apache.arrow.stream"
MATCH_PATH: Final = "/v1/match-requests"
MAX_BACKOFF_SECONDS: Final = 30.0


class StoppedError(Exception):
    """The run was told to stop (another node failed, the lease was lost, shutdown)."""


@dataclass(frozen=True)
class NodeTarget:
    """One agency's node and the match request to send it."""

    agency: str
    url: str
    request: MatchRequest


@dataclass(frozen=True)
class FetchPolicy:
    signing_key: Ed25519PrivateKey
    retries: int = 3
    backoff_seconds: float = 1.0
    max_response_bytes: int = 8 * 1024**3
    message_ttl: int = 300
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class NodeAnswer:
    agency: str
    table: pa.Table
    batches: int
    attempts: int
    bytes: int
    seconds: float


class _BodyReader(io.RawIOBase):
    """The response body as a readable file, chunk by chunk, with a size limit and a stop
    check between chunks."""

    def __init__(self, chunks: Iterator[bytes], *, limit: int, stop: Event) -> None:
        self._chunks = chunks
        self._pending = b""
        self._limit = limit
        self._stop = stop
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            if self._stop.is_set():
                raise StoppedError
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self.total += len(chunk)
            if self.total > self._limit:
                raise _TooLargeError
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class _TooLargeError(Exception):
    pass


def _refusal(target: NodeTarget, response: httpx.Response) -> tuple[str, str]:
    """The node's ``{"error", "detail"}`` (read from a small body), or the HTTP reason."""
    code, detail = f"http_{response.status_code}", response.reason_phrase
    try:
        response.read()
        body = response.json()
    except (ValueError, httpx.HTTPError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        code = body["error"][:64]
        detail = str(body.get("detail", ""))[:500]
    return code, detail


def _read_stream(target: NodeTarget, response: httpx.Response, policy: FetchPolicy,
                 stop: Event) -> tuple[pa.Table, int, int]:
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if media != ARROW_STREAM:
        raise NodeRequestError(
            f"node {target.agency} answered the match request with {media or 'no type'}, "
            f"not {ARROW_STREAM}", agency=target.agency, code="bad_token_stream")
    body = _BodyReader(response.iter_bytes(), limit=policy.max_response_bytes, stop=stop)
    expected = token_batch_schema()
    try:
        reader = pa.ipc.open_stream(io.BufferedReader(body, buffer_size=1 << 20))
        if not reader.schema.equals(expected, check_metadata=True):
            raise NodeRequestError(
                f"node {target.agency} sent token batches whose schema is not the protocol's "
                "token_batch_schema; refused", agency=target.agency, code="bad_token_stream")
        batches = []
        for batch in reader:
            if stop.is_set():
                raise StoppedError
            batches.append(batch)
    except _TooLargeError:
        raise NodeRequestError(
            f"node {target.agency} sent more than {policy.max_response_bytes} bytes; refused",
            agency=target.agency, code="response_too_large") from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise NodeRequestError(
            f"node {target.agency} sent something that is not an Arrow token stream "
            f"({type(exc).__name__})", agency=target.agency, code="bad_token_stream") from None
    # One contiguous chunk per column: the engine then reads the Bloom filters, pids and
    # tokens in place instead of joining the chunks into copies that would live beside
    # the batches for the whole run (0.6 GB of a 1M x 1M run; docs/linkage.md).
    table = pa.Table.from_batches(batches, schema=expected).combine_chunks()
    return table, len(batches), body.total


def _attempt(client: httpx.Client, target: NodeTarget, policy: FetchPolicy,
             stop: Event) -> tuple[pa.Table, int, int]:
    envelope = sign(target.request, typ=MatchRequest.TYP, private_key=policy.signing_key,
                    ttl_seconds=policy.message_ttl, now=int(policy.clock()))
    url = target.url.rstrip("/") + MATCH_PATH
    try:
        with client.stream("POST", url, content=envelope.to_json(),
                           headers={"Content-Type": "application/json"}) as response:
            if response.status_code >= 400:
                code, detail = _refusal(target, response)
                verb = "refused" if response.status_code < 500 else "failed"
                raise NodeRequestError(
                    f"node {target.agency} {verb} the match request: {code} "
                    f"({response.status_code}): {detail}", agency=target.agency,
                    code="node_error" if response.status_code >= 500 else code,
                    node_status=response.status_code, retryable=response.status_code >= 500)
            return _read_stream(target, response, policy, stop)
    except httpx.TimeoutException as exc:
        raise NodeRequestError(
            f"node {target.agency} at {target.url} did not answer in time "
            f"({type(exc).__name__})", agency=target.agency, code="node_timeout",
            retryable=True) from None
    except httpx.TransportError as exc:
        raise NodeRequestError(
            f"node {target.agency} at {target.url} could not be reached "
            f"({type(exc).__name__})", agency=target.agency, code="node_unreachable",
            retryable=True) from None


def fetch_tokens(client: httpx.Client, target: NodeTarget, policy: FetchPolicy,
                 stop: Event) -> NodeAnswer:
    """One node's token table, with bounded retries; :class:`NodeRequestError` if it fails."""
    started = time.perf_counter()
    tries = policy.retries + 1
    for attempt in range(1, tries + 1):
        if stop.is_set():
            raise StoppedError
        try:
            table, batches, size = _attempt(client, target, policy, stop)
        except NodeRequestError as exc:
            if not exc.retryable or attempt == tries:
                if exc.retryable and tries > 1:
                    raise NodeRequestError(f"{exc}; gave up after {tries} attempts",
                                           agency=exc.agency, code=exc.code,
                                           node_status=exc.node_status) from None
                raise
            delay = min(MAX_BACKOFF_SECONDS, policy.backoff_seconds * 2 ** (attempt - 1))
            if stop.wait(delay):
                raise StoppedError from None
            continue
        return NodeAnswer(agency=target.agency, table=table, batches=batches,
                          attempts=attempt, bytes=size,
                          seconds=round(time.perf_counter() - started, 3))
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_all(client: httpx.Client, targets: list[NodeTarget], policy: FetchPolicy, *,
              stop: Event, on_answer: Callable[[NodeAnswer], None]) -> Mapping[str, pa.Table]:
    """Every node's table, fetched concurrently; ``on_answer`` is called (in this thread)
    as each node finishes. The first failure stops the others and is raised."""
    tables: dict[str, pa.Table] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(targets)),
                            thread_name_prefix="fedlink-node") as pool:
        pending = {pool.submit(fetch_tokens, client, t, policy, stop) for t in targets}
        try:
            while pending:
                # FIRST_COMPLETED, not FIRST_EXCEPTION (which waits for *all* to succeed): a
                # node's progress is recorded the moment it finishes, and a node that
                # finished keeps its success when another fails later.
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                failures = [e for e in (f.exception() for f in done) if e is not None]
                for future in done:
                    if future.exception() is None:
                        answer = future.result()
                        tables[answer.agency] = answer.table
                        on_answer(answer)
                if failures:
                    # A node's own failure names the reason; the others only stopped.
                    raise next((e for e in failures if isinstance(e, NodeRequestError)),
                               failures[0])
        except BaseException:
            stop.set()
            raise
    return tables
