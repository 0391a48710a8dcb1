"""Ask every agency node of a linkage run for its token batches, concurrently.

For each agency the hub signs a :class:`protocol.wire.MatchRequest` with its signing key
(a fresh envelope, so a fresh nonce, for every attempt) and posts it to
``{node}/v1/match-requests`` (docs/protocol.md). The answer is read as it arrives: the
response body is handed to ``pyarrow.ipc.open_stream`` as a file, so batches are decoded
while the rest is still on the wire. The stream must be exactly
:func:`protocol.encoding.token_batch_schema` (fields, types and protocol metadata) —
anything else is refused, never guessed at.

Landing: each batch is appended, as it is decoded, to ``spool_dir/<agency>.arrow.partial``,
an Arrow IPC *file* (random access, memory-mappable), renamed to ``<agency>.arrow`` once the
stream has ended; the hub never holds more than the batch in hand, whatever the stream's
size (docs/linkage-runs.md, "Token streams land on disk").

Retries: connection errors, timeouts, broken streams and 5xx answers are tried again
(``retries`` more times, exponential backoff) because they can pass; a 4xx is the node
*refusing* (not approved, out of scope, salt mismatch…) and is final at once. A retry
keeps the batches already landed and asks the node to resume after them
(``MatchRequest.resume_from_batch``, docs/protocol.md); should the node refuse to resume
(an older node, ``bad_resume``) or not continue after the last pid held (its store
changed: units come in pid order), the held batches are dropped and the stream is asked
for again from the start. Every failure is a :class:`hub.errors.NodeRequestError` naming
the agency and the reason. The first node to fail stops the others (``stop`` is shared),
so a run fails fast.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from threading import Event
from typing import Any, Final

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
    #: A stream lands on disk, not in memory: the limit guards the disk. 64 GiB holds a
    #: node of about 90 million records (about 700 bytes a record at the defaults).
    max_response_bytes: int = 64 * 1024**3
    message_ttl: int = 300
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class NodeAnswer:
    """One node's landed stream: ``path`` (an Arrow IPC file of ``rows`` rows in
    ``batches`` batches), the attempts it took and the bytes received over all of them."""

    agency: str
    path: Path
    rows: int
    batches: int
    attempts: int
    bytes: int
    seconds: float


class _Landing:
    """One agency's Arrow IPC file, written batch by batch into ``<path>.partial`` and
    renamed to ``path`` when complete. Batches landed by an attempt stay for the next one
    (the resume); :meth:`restart` drops them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self._sink: Any = None
        self._writer: Any = None
        #: Batches and rows landed, and the bytes of the attempts that sent them.
        self.batches = self.rows = self.bytes = 0
        #: Bytes received over every attempt, whether kept or not.
        self.received = 0
        self.last_pid: str | None = None

    def _open(self) -> Any:
        if self._writer is None:
            self._sink = pa.OSFile(str(self.partial), "wb")
            self._writer = pa.ipc.new_file(self._sink, token_batch_schema())
        return self._writer

    def append(self, batch: pa.RecordBatch) -> None:
        self._open().write_batch(batch)
        self.batches += 1
        self.rows += batch.num_rows
        if batch.num_rows:
            self.last_pid = batch.column(0)[-1].as_py()

    def finish(self) -> Path:
        self._open().close()  # an empty stream: a file of the schema and no batch
        self._sink.close()
        self._writer = self._sink = None
        os.replace(self.partial, self.path)
        return self.path

    def restart(self) -> None:
        """Drop every batch held (the file too)."""
        writer, sink, self._writer, self._sink = self._writer, self._sink, None, None
        with contextlib.suppress(Exception):
            if writer is not None:
                writer.close()
        with contextlib.suppress(Exception):
            if sink is not None:
                sink.close()
        self.partial.unlink(missing_ok=True)
        self.batches = self.rows = self.bytes = 0
        self.last_pid = None


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


class SpoolError(Exception):
    """The hub could not write a landed stream to its spool directory."""


class _ResumeMismatchError(Exception):
    """A resumed stream does not continue after the last pid held."""


def _read_stream(target: NodeTarget, response: httpx.Response, policy: FetchPolicy,
                 stop: Event, landing: _Landing) -> None:
    """Land the stream's batches in ``landing`` as they are decoded (after those it holds)."""
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if media != ARROW_STREAM:
        raise NodeRequestError(
            f"node {target.agency} answered the match request with {media or 'no type'}, "
            f"not {ARROW_STREAM}", agency=target.agency, code="bad_token_stream")
    limit = policy.max_response_bytes - landing.bytes
    body = _BodyReader(response.iter_bytes(), limit=limit, stop=stop)
    expected = token_batch_schema()
    resumed_after = landing.last_pid if landing.batches else None
    try:
        reader = pa.ipc.open_stream(io.BufferedReader(body, buffer_size=1 << 20))
        if not reader.schema.equals(expected, check_metadata=True):
            raise NodeRequestError(
                f"node {target.agency} sent token batches whose schema is not the protocol's "
                "token_batch_schema; refused", agency=target.agency, code="bad_token_stream")
        for batch in reader:
            if stop.is_set():
                raise StoppedError
            if resumed_after is not None and batch.num_rows:
                # Units come in pid order: a resumed stream that does not go on after
                # the last pid held is not the rest of the same stream.
                if batch.column(0)[0].as_py() <= resumed_after:
                    raise _ResumeMismatchError
                resumed_after = None
            try:
                landing.append(batch)
            except OSError as exc:  # the hub's disk (full?), not the node's stream
                raise SpoolError(f"could not land node {target.agency}'s token batches in "
                                 f"{landing.partial.parent}: {exc.strerror or exc}") from None
    except _TooLargeError:
        raise NodeRequestError(
            f"node {target.agency} sent more than {policy.max_response_bytes} bytes; refused",
            agency=target.agency, code="response_too_large") from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise NodeRequestError(
            f"node {target.agency} sent something that is not an Arrow token stream "
            f"({type(exc).__name__})", agency=target.agency, code="bad_token_stream") from None
    finally:
        landing.received += body.total
        landing.bytes += body.total


def _signed_body(request: MatchRequest) -> dict[str, Any]:
    body = request.model_dump(mode="json")
    if not request.resume_from_batch:
        # Left out when 0: the bytes of an ordinary request stay those a node that
        # predates the field accepts (it refuses unknown fields).
        del body["resume_from_batch"]
    return body


def _attempt(client: httpx.Client, target: NodeTarget, policy: FetchPolicy,
             stop: Event, landing: _Landing) -> None:
    request = target.request
    if landing.batches:
        request = request.model_copy(update={"resume_from_batch": landing.batches})
    envelope = sign(_signed_body(request), typ=MatchRequest.TYP,
                    private_key=policy.signing_key, ttl_seconds=policy.message_ttl,
                    now=int(policy.clock()))
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
            _read_stream(target, response, policy, stop, landing)
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
                 stop: Event, spool_dir: Path) -> NodeAnswer:
    """One node's token stream landed in ``spool_dir/<agency>.arrow``, with bounded
    retries that resume after the batches held; :class:`NodeRequestError` if it fails
    (nothing is left in ``spool_dir`` then)."""
    started = time.perf_counter()
    tries = policy.retries + 1
    landing = _Landing(Path(spool_dir) / f"{target.agency}.arrow")
    try:
        for attempt in range(1, tries + 1):
            if stop.is_set():
                raise StoppedError
            resumed = landing.batches > 0
            try:
                _attempt(client, target, policy, stop, landing)
            except _ResumeMismatchError:
                landing.restart()
                continue
            except NodeRequestError as exc:
                if resumed and exc.node_status is not None and exc.node_status < 500 \
                        and attempt < tries:
                    # Refused to resume (bad_resume; an older node refuses the field):
                    # ask for the whole stream again. A real refusal comes back again.
                    landing.restart()
                    continue
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
            return NodeAnswer(agency=target.agency, path=landing.finish(), rows=landing.rows,
                              batches=landing.batches, attempts=attempt,
                              bytes=landing.received,
                              seconds=round(time.perf_counter() - started, 3))
        raise NodeRequestError(
            f"node {target.agency} sent a resumed stream that did not continue the one "
            f"held; gave up after {tries} attempts", agency=target.agency,
            code="bad_token_stream")
    except BaseException:
        landing.restart()
        raise


def fetch_all(client: httpx.Client, targets: list[NodeTarget], policy: FetchPolicy, *,
              stop: Event, on_answer: Callable[[NodeAnswer], None],
              spool_dir: Path) -> Mapping[str, Path]:
    """Every node's stream landed in ``spool_dir`` (``<agency>.arrow``, an Arrow IPC file),
    fetched concurrently; ``on_answer`` is called (in this thread) as each node finishes.
    The first failure stops the others and is raised. ``spool_dir`` must exist; the caller
    removes it (and whatever landed) when the run is over."""
    paths: dict[str, Path] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(targets)),
                            thread_name_prefix="fedlink-node") as pool:
        pending = {pool.submit(fetch_tokens, client, t, policy, stop, spool_dir)
                   for t in targets}
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
                        paths[answer.agency] = answer.path
                        on_answer(answer)
                if failures:
                    # A node's own failure names the reason; the others only stopped.
                    raise next((e for e in failures if isinstance(e, NodeRequestError)),
                               failures[0])
        except BaseException:
            stop.set()
            raise
    return paths
