"""Token batches encoded in several processes: the node's match stream and ``fedlink link``.

Encoding is CPU-bound Python (normalisation, one keyed BLAKE2b per token, ~13 tokens per
record), so one process uses one core of a node; records are independent, so the stream
is cut into chunks that worker processes encode, and the batches come back in input
order. Three entry points, on one ordered fan-out:

- :func:`encode_column_batches_parallel`: ``(pids, identity columns)`` chunks, one batch
  each (the node's match stream, which reads its store a page at a time as columns); a
  chunk may add ``owners`` (units with several identity versions, an agency person's
  rows: :func:`protocol.encoding.encode_unit_columns`, one row per unit).
- :func:`encode_batches_parallel`: ``(pid, identity)`` records already normalised, cut
  into such chunks. Exactly what :func:`protocol.encoding.encode_batches` gives for the
  same records (same rows, same bytes), only cut into batches of at most ``chunk_size``
  rows.
- :func:`normalize_and_encode_parallel`: raw clear-text columns (``fedlink link``, which
  has no ingest step). Each worker normalises its chunk with
  :func:`protocol.normalize.normalize_identity` and encodes it, so normalisation runs on
  every core too and only plain lists of strings cross the pipe (a normalised identity
  costs several times more to unpickle than to send as text). The same bytes as
  normalising row by row, then :func:`encode_batches_parallel`.

Small inputs (fewer than :data:`PARALLEL_THRESHOLD` records) are encoded in this process:
starting workers costs more than it saves there. Workers come from a ``forkserver`` (a
clean process that never held a request, a database session or a lock; ``spawn`` where
there is none), and the project keys travel to them through the pool's pipe, on this
machine only, with each chunk. A worker that dies costs speed, not the stream: its chunk
is encoded in this process. Nothing here logs a record, a pid or a key.

``protocol`` itself starts no process (``tests/protocol/test_import_rules.py``), so this
lives on the node; ``fedlink link`` imports it to run the node's exact path.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.util
import os
import select
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice
from typing import Any, Final, NamedTuple, TypeVar

import pyarrow as pa

from protocol.columns import IdentityColumns
from protocol.encoding import Record, encode_columns, encode_unit_columns
from protocol.identity import IDENTITY_FIELDS
from protocol.keys import ProjectKeys
from protocol.normalize import NormalizationOptions, normalize_identity


def _threshold() -> int:
    # FEDLINK_ENCODING_PARALLEL_THRESHOLD lowers it (tests that need the worker pool on a
    # handful of records, docs/operations.md); anything but a positive integer is ignored.
    raw = os.environ.get("FEDLINK_ENCODING_PARALLEL_THRESHOLD", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 20_000


#: Below this many records, encode in this process.
PARALLEL_THRESHOLD: Final = _threshold()
#: Records per worker task: large enough that pickling and scheduling are noise, small
#: enough that every worker gets several tasks and memory stays bounded.
DEFAULT_CHUNK_SIZE: Final = 10_000
#: Tasks in flight per worker: keeps every worker busy while batches are consumed in order.
_IN_FLIGHT_PER_WORKER: Final = 2
log = logging.getLogger("agency_node.parallel_encoding")
_WORKER_MODULES: Final = ["protocol.encoding", "agency_node.services.parallel_encoding"]
_R = TypeVar("_R")


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Import the encoder once in the server, not in every worker it forks.
        context.set_forkserver_preload(_WORKER_MODULES)
        return context
    return multiprocessing.get_context("spawn")


# One pool per process, started on first use and kept: starting workers costs about a second
# (a fresh interpreter importing NumPy, Arrow and the encoder), paid once, not per stream.
_POOL: dict[int, ProcessPoolExecutor] = {}
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ProcessPoolExecutor:
    with _POOL_LOCK:
        pool = _POOL.get(workers)
        if pool is None or getattr(pool, "_broken", False):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            pool = _POOL[workers] = ProcessPoolExecutor(
                max_workers=workers, mp_context=_context(), initializer=_end_with_owner,
                initargs=(os.getpid(),))
        return pool


def _end_with_owner(owner: int) -> None:
    """Worker initializer: end this worker as soon as ``owner`` (the process that started
    the pool: the node, ``fedlink link``) has ended, however it ended.

    A ``kill -9`` of the owner runs none of its exit hooks, and a worker would wait on its
    task queue forever (it holds both ends of that pipe); it also holds the forkserver's
    "alive" pipe and the resource tracker's pipe, so those two would stay as well — four
    processes and ~400 MB left behind per kill. Workers are the forkserver's children, not
    the owner's, so ``PR_SET_PDEATHSIG`` would not fire; a thread waits on a pidfd of the
    owner instead (Linux ≥ 5.3; elsewhere it polls every second). Once the workers are
    gone the forkserver sees its "alive" pipe close and exits, then the resource tracker.
    """
    threading.Thread(target=_watch_owner, args=(owner,), daemon=True,
                     name="fedlink-owner-watch").start()


def _watch_owner(owner: int) -> None:
    try:
        pidfd = os.pidfd_open(owner)
    except (AttributeError, OSError):
        pidfd = -1
    if pidfd >= 0:
        select.select([pidfd], [], [])  # readable once the owner has exited
    else:
        while _alive(owner) and os.getppid() != 1:
            time.sleep(1.0)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def shutdown_pools() -> None:
    """Stop the worker processes (they are also stopped when this process exits)."""
    with _POOL_LOCK:
        for pool in _POOL.values():
            pool.shutdown(wait=True, cancel_futures=True)
        _POOL.clear()


atexit.register(shutdown_pools)
# A multiprocessing child (a uvicorn worker, a benchmark step's pool worker) ends through
# multiprocessing's own exit path, which skips atexit and then joins every child it
# started: the pool's idle workers would keep it waiting forever. A finalizer with an
# exit priority runs before that join; 100 puts it ahead of the pool queues' own
# finalizers (priority 10), which would otherwise stop the feeder that carries the
# workers' stop signal.
multiprocessing.util.Finalize(None, shutdown_pools, exitpriority=100)


# -- worker tasks (module-level: a worker process imports them by name) ------------------


def _encode_chunk(
    pids: list[str], batch: IdentityColumns, keys: ProjectKeys, owners: list[int] | None = None
) -> pa.RecordBatch:
    """Worker task: one chunk of normalised records (or of units' identity versions, when
    ``owners`` is given) → one token batch."""
    if owners is None:
        return encode_columns(pids, batch, keys)
    return encode_unit_columns(pids, owners, batch, keys)


class EncodedChunk(NamedTuple):
    """One chunk of :func:`normalize_and_encode_parallel`: its token batch, and how many of
    its records have at least one usable identity value."""

    batch: pa.RecordBatch
    usable: int


def _normalize_encode_chunk(
    pids: list[str],
    fields: tuple[str, ...],
    values: list[list[object]],
    options: NormalizationOptions,
    keys: ProjectKeys,
) -> EncodedChunk:
    """Worker task: raw columns of one chunk → normalised → one token batch."""
    identities = [
        normalize_identity(dict(zip(fields, row, strict=True)), options)
        for row in zip(*values, strict=True)
    ]
    usable = sum(1 for x in identities if any(x.present(f) for f in IDENTITY_FIELDS))
    return EncodedChunk(encode_columns(pids, IdentityColumns.of(identities), keys), usable)


# -- the ordered fan-out -----------------------------------------------------------------


def _in_order(
    fn: Callable[..., _R], chunks: Iterator[tuple[Any, ...]], workers: int
) -> Iterator[_R]:
    """``fn(*chunk)`` for every chunk, run by the worker pool, yielded in input order.

    At most ``2 × workers`` chunks are held at a time; a consumer that stops early leaves
    nothing queued behind it."""
    pool = _pool(workers)
    pending: deque[tuple[tuple[Any, ...], Future[_R] | None]] = deque()
    try:
        for chunk in chunks:
            pending.append((chunk, _submit(pool, fn, chunk)))
            if len(pending) >= _IN_FLIGHT_PER_WORKER * workers:
                yield _result(fn, *pending.popleft())
        while pending:
            yield _result(fn, *pending.popleft())
    finally:
        for _, future in pending:
            if future is not None:
                future.cancel()


def _submit(
    pool: ProcessPoolExecutor, fn: Callable[..., _R], chunk: tuple[Any, ...]
) -> Future[_R] | None:
    try:
        return pool.submit(fn, *chunk)
    except BrokenProcessPool:
        return None  # run in this process by _result


def _result(fn: Callable[..., _R], chunk: tuple[Any, ...], future: Future[_R] | None) -> _R:
    """The chunk's result; computed in this process if a worker died (killed, out of
    memory), so a lost worker slows the stream down instead of failing it."""
    if future is not None:
        try:
            return future.result()
        except BrokenProcessPool:
            log.warning("an encoding worker process died; encoding in this process instead")
    return fn(*chunk)


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")


# -- entry points ------------------------------------------------------------------------

#: ``(pids, identity columns)``, one identity row per pid; or ``(pids, identity columns,
#: owners)``: one row per identity *version*, ``owners[i]`` the index into ``pids`` of
#: row ``i``'s unit (:func:`protocol.encoding.encode_unit_columns`).
ColumnChunk = tuple[list[str], IdentityColumns] | tuple[list[str], IdentityColumns, list[int]]


def encode_batches_parallel(
    records: Iterable[Record],
    keys: ProjectKeys,
    workers: int | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    threshold: int = PARALLEL_THRESHOLD,
) -> Iterator[pa.RecordBatch]:
    """Encode ``(pid, identity)`` records in ``workers`` processes (default: one per CPU).

    Yields token batches in input order, each of at most ``chunk_size`` rows; their rows
    are byte for byte those of :func:`protocol.encoding.encode_batches`. With one worker,
    or fewer than ``threshold`` records, encodes in this process. Reads ``records``
    lazily, holding at most ``2 × workers`` chunks at a time. Raises
    :class:`protocol.errors.EncodingError` as :func:`protocol.encoding.encode_batch` does.
    """
    _check_chunk_size(chunk_size)
    iterator = iter(records)

    def chunks() -> Iterator[ColumnChunk]:
        # Pids and identity columns: plain lists pickle several times faster than the
        # identity dataclasses, and the worker need not rebuild them.
        while records_chunk := list(islice(iterator, chunk_size)):
            pids = [pid for pid, _ in records_chunk]
            yield pids, IdentityColumns.of([x for _, x in records_chunk])

    yield from encode_column_batches_parallel(chunks(), keys, workers, threshold=threshold)


def encode_column_batches_parallel(
    chunks: Iterable[ColumnChunk],
    keys: ProjectKeys,
    workers: int | None = None,
    *,
    threshold: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """Encode records already split into ``(pids, identity columns)`` chunks: one token
    batch per chunk, in order, each :func:`protocol.encoding.encode_columns` of its chunk
    (the node's match stream, which reads identities from its store as columns), or
    :func:`protocol.encoding.encode_unit_columns` of a chunk that carries ``owners``.

    Chunks are read lazily; in this process when there is one worker or fewer than
    ``threshold`` records (units: pids) in all (default :data:`PARALLEL_THRESHOLD`).
    """
    if workers is None:
        workers = os.cpu_count() or 1
    limit = PARALLEL_THRESHOLD if threshold is None else threshold
    iterator = iter(chunks)
    head: list[ColumnChunk] = []
    seen = 0
    for chunk in iterator:
        head.append(chunk)
        seen += len(chunk[0])
        if seen >= limit:
            break
    stream = chain(head, iterator)
    del head
    if workers < 2 or seen < limit:
        for chunk in stream:
            yield _encode_chunk(*_task(chunk, keys))
        return
    yield from _in_order(_encode_chunk, (_task(chunk, keys) for chunk in stream), workers)


def _task(
    chunk: ColumnChunk, keys: ProjectKeys
) -> tuple[list[str], IdentityColumns, ProjectKeys, list[int] | None]:
    owners = chunk[2] if len(chunk) > 2 else None
    return chunk[0], chunk[1], keys, owners


def normalize_and_encode_parallel(
    pids: Sequence[str],
    raw: dict[str, Sequence[object]],
    options: NormalizationOptions,
    keys: ProjectKeys,
    workers: int | None = None,
    *,
    chunk_size: int | None = None,
    threshold: int | None = None,
) -> Iterator[EncodedChunk]:
    """Normalise and encode raw clear-text columns in ``workers`` processes.

    ``raw`` maps canonical identity field names (others are refused) to one raw value per
    record, aligned with ``pids``. Yields one :class:`EncodedChunk` per ``chunk_size``
    records (default :data:`DEFAULT_CHUNK_SIZE`), in input order; the batches' rows are
    byte for byte those of ``normalize_identity`` on each row followed by
    :func:`encode_batches_parallel`. With one worker, or fewer than ``threshold`` records
    (default :data:`PARALLEL_THRESHOLD`), runs in this process. Raises
    :class:`ValueError` for a column that is not an identity field or not aligned with
    ``pids``, :class:`protocol.errors.EncodingError` as
    :func:`protocol.encoding.encode_batch` does.
    """
    chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    _check_chunk_size(chunk_size)
    unknown = sorted(set(raw) - set(IDENTITY_FIELDS))
    if unknown:
        raise ValueError(f"not identity fields: {', '.join(unknown)}")
    fields = tuple(raw)
    columns = [list(raw[f]) for f in fields]
    if any(len(c) != len(pids) for c in columns):
        raise ValueError("every raw column must have one value per pid")
    if workers is None:
        workers = os.cpu_count() or 1
    chunks = (
        (list(pids[lo : lo + chunk_size]), fields, [c[lo : lo + chunk_size] for c in columns],
         options, keys)
        for lo in range(0, len(pids), chunk_size)
    )
    if workers < 2 or len(pids) < (PARALLEL_THRESHOLD if threshold is None else threshold):
        yield from (_normalize_encode_chunk(*chunk) for chunk in chunks)
        return
    yield from _in_order(_normalize_encode_chunk, chunks, workers)
