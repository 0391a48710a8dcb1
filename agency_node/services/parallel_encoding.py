"""Token batches encoded in several processes: the node's match stream and ``fedlink link``.

Encoding is CPU-bound pure Python (one HMAC-SHA256 per token, ~15 tokens per record), so
one process tops out well below what a node must serve; records are independent, so the
stream is cut into chunks that worker processes encode with
:func:`protocol.encoding.encode_batch`, and the batches come back in input order. The
output is exactly what :func:`protocol.encoding.encode_batches` gives for the same
records (same rows, same bytes), only cut into batches of at most ``chunk_size`` rows.

Small inputs (fewer than :data:`PARALLEL_THRESHOLD` records) are encoded in this process:
starting workers costs more than it saves there. Workers come from a ``forkserver`` (a
clean process that never held a request, a database session or a lock; ``spawn`` where
there is none), and the project keys travel to them through the pool's pipe, on this
machine only, with each chunk. Nothing here logs a record, a pid or a key.

``protocol`` itself starts no process (``tests/protocol/test_import_rules.py``), so this
lives on the node; ``fedlink link`` imports it to run the node's exact path.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice
from typing import Final

import pyarrow as pa

from protocol.columns import IdentityColumns
from protocol.encoding import Record, encode_batches, encode_columns
from protocol.keys import ProjectKeys

#: Below this many records, encode in this process.
PARALLEL_THRESHOLD: Final = 20_000
#: Records per worker task: large enough that pickling and scheduling are noise, small
#: enough that every worker gets several tasks and memory stays bounded.
DEFAULT_CHUNK_SIZE: Final = 10_000
#: Tasks in flight per worker: keeps every worker busy while batches are consumed in order.
_IN_FLIGHT_PER_WORKER: Final = 2
log = logging.getLogger("agency_node.parallel_encoding")
_WORKER_MODULES: Final = ["protocol.encoding", "agency_node.services.parallel_encoding"]


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
            pool = _POOL[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=_context())
        return pool


def shutdown_pools() -> None:
    """Stop the worker processes (they are also stopped when this process exits)."""
    with _POOL_LOCK:
        for pool in _POOL.values():
            pool.shutdown(wait=True, cancel_futures=True)
        _POOL.clear()


atexit.register(shutdown_pools)


def _encode_chunk(pids: list[str], batch: IdentityColumns, keys: ProjectKeys) -> pa.RecordBatch:
    """Worker task: one chunk of records → one token batch."""
    return encode_columns(pids, batch, keys)


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
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    if workers is None:
        workers = os.cpu_count() or 1
    iterator = iter(records)
    head = list(islice(iterator, max(threshold, 1)))
    if workers < 2 or len(head) < threshold:
        yield from encode_batches(chain(head, iterator), keys, chunk_size)
        return
    stream = chain(head, iterator)
    del head
    pool = _pool(workers)
    pending: deque[tuple[_Chunk, Future[pa.RecordBatch] | None]] = deque()
    try:
        while records_chunk := list(islice(stream, chunk_size)):
            chunk = _split(records_chunk)
            pending.append((chunk, _submit(pool, chunk, keys)))
            if len(pending) >= _IN_FLIGHT_PER_WORKER * workers:
                yield _result(*pending.popleft(), keys)
        while pending:
            yield _result(*pending.popleft(), keys)
    finally:
        # A consumer that stops early (a client gone) leaves nothing queued behind it.
        for _, future in pending:
            if future is not None:
                future.cancel()


_Chunk = tuple[list[str], IdentityColumns]


def _split(records: list[Record]) -> _Chunk:
    """Pids and identity columns: plain lists pickle several times faster than the
    identity dataclasses, and the worker need not rebuild them."""
    return [pid for pid, _ in records], IdentityColumns.of([x for _, x in records])


def _submit(
    pool: ProcessPoolExecutor, chunk: _Chunk, keys: ProjectKeys
) -> Future[pa.RecordBatch] | None:
    try:
        return pool.submit(_encode_chunk, *chunk, keys)
    except BrokenProcessPool:
        return None  # encoded in this process by _result


def _result(
    chunk: _Chunk, future: Future[pa.RecordBatch] | None, keys: ProjectKeys
) -> pa.RecordBatch:
    """The chunk's batch; encoded in this process if a worker died (killed, out of
    memory), so a lost worker slows the stream down instead of failing it."""
    if future is not None:
        try:
            return future.result()
        except BrokenProcessPool:
            log.warning("an encoding worker process died; encoding in this process instead")
    return encode_columns(*chunk, keys)
