"""Token batches encoded in worker processes: the same bytes as one process, in order."""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures.process import BrokenProcessPool

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from agency_node.services import parallel_encoding
from agency_node.services.parallel_encoding import (
    encode_batches_parallel,
    encode_column_batches_parallel,
    normalize_and_encode_parallel,
)
from protocol.columns import IdentityColumns
from protocol.encoding import encode_batches, encode_columns, encode_unit_columns
from protocol.errors import EncodingError
from protocol.identity import IDENTITY_FIELDS, NormalizedIdentity, Sex
from protocol.keys import derive_project_keys, pseudonymous_id
from protocol.normalize import NormalizationOptions, normalize_identity

KEYS = derive_project_keys(b"\x55" * 32, b"parallel-encoding-salt-012345678",
    project_id="P-test", project_digest="ab" * 32)
FIRST = ["WILLIAM", "BILL", "MARIA", "JOSE", "ANNA", "LI", "KATHERINE", None]
LAST = ["SMITH", "GARCIALOPEZ", "NGUYEN", "OKAFOR", "LE", None]


def identities(n: int, seed: int = 3) -> list[tuple[str, NormalizedIdentity]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        out.append((
            pseudonymous_id(b"\x66" * 32, "P-9", f"R{i}"),
            NormalizedIdentity(
                first_name=first,
                middle_name=rng.choice(["HENRY", "J", None]),
                last_name=last,
                dob=rng.choice([dt.date(2004, 3, 7), dt.date(1990, 12, 25), None]),
                sex=rng.choice([Sex.MALE, Sex.FEMALE, None]),
                ssn=rng.choice([f"21909{i % 10000:04d}", None]),
                postal_code=rng.choice(["23220", "24401", None]),
                street_address=rng.choice([f"{i % 97 + 1} MAIN ST", "PO BOX 4", None]),
                city="RICHMOND",
                first_name_canonical=("WILLIAM",) if first == "BILL" else (),
                last_name_parts=("GARCIA", "LOPEZ") if last == "GARCIALOPEZ" else (),
            ),
        ))  # fmt: skip
    return out


def table(batches) -> pa.Table:
    return pa.Table.from_batches(list(batches))


@pytest.mark.slow
def test_worker_processes_give_the_single_process_bytes_in_order() -> None:
    records = identities(2_500)
    single = table(encode_batches(records, KEYS))
    parallel = list(encode_batches_parallel(records, KEYS, workers=2, chunk_size=300, threshold=1))
    assert max(b.num_rows for b in parallel) == 300
    combined = table(parallel)
    assert combined.equals(single)  # same rows, same order
    by_pid = [t.sort_by("pid") for t in (combined, single)]
    assert by_pid[0].equals(by_pid[1])


def test_small_input_is_encoded_in_this_process(monkeypatch) -> None:
    def no_pool(workers: int):
        raise AssertionError("no worker process for a small input")

    monkeypatch.setattr(parallel_encoding, "_pool", no_pool)
    records = identities(50)
    got = table(encode_batches_parallel(records, KEYS, workers=2, chunk_size=20))
    assert got.equals(table(encode_batches(records, KEYS)))


class _DeadPool:
    """A pool whose workers have all died."""

    def submit(self, *args, **kwargs):
        raise BrokenProcessPool("a worker died")


def test_dead_workers_slow_the_stream_down_but_do_not_fail_it(monkeypatch) -> None:
    monkeypatch.setattr(parallel_encoding, "_pool", lambda workers: _DeadPool())
    records = identities(120)
    got = table(encode_batches_parallel(records, KEYS, workers=2, chunk_size=25, threshold=1))
    assert got.equals(table(encode_batches(records, KEYS)))


class _InlinePool:
    """A pool that runs each task at once, in this process."""

    def __init__(self) -> None:
        self.tasks = 0

    def submit(self, fn, *args):
        from concurrent.futures import Future

        self.tasks += 1
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as error:  # handed to the consumer, as a real pool does
            future.set_exception(error)
        return future


def test_local_record_id_is_refused_from_a_worker_too(monkeypatch) -> None:
    monkeypatch.setattr(parallel_encoding, "_pool", lambda workers: _InlinePool())
    records = identities(30)
    records[7] = ("LOCAL-0007", records[7][1])
    with pytest.raises(EncodingError, match="pseudonym"):
        list(encode_batches_parallel(records, KEYS, workers=2, chunk_size=10, threshold=1))


def test_reads_records_lazily_and_stops_when_the_consumer_does(monkeypatch) -> None:
    pool = _InlinePool()
    monkeypatch.setattr(parallel_encoding, "_pool", lambda workers: pool)
    read = 0

    def stream():
        nonlocal read
        for record in identities(1_000):
            read += 1
            yield record

    batches = encode_batches_parallel(stream(), KEYS, workers=2, chunk_size=10, threshold=1)
    first = next(batches)
    assert first.num_rows == 10
    assert read <= 10 * 2 * 2 + 10  # a bounded read-ahead, not the whole input
    batches.close()
    assert pool.tasks <= 5


def test_pid_order_is_kept_across_chunks(monkeypatch) -> None:
    monkeypatch.setattr(parallel_encoding, "_pool", lambda workers: _InlinePool())
    records = identities(95)
    got = table(encode_batches_parallel(records, KEYS, workers=3, chunk_size=10, threshold=1))
    assert got.column("pid").to_pylist() == [pid for pid, _ in records]
    assert pc.all(pc.equal(got.column("pid"), pa.array([p for p, _ in records]))).as_py()


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        list(encode_batches_parallel(identities(3), KEYS, chunk_size=0))


# -- normalize_and_encode_parallel: raw clear text in, token batches out -----------------

RAW_FIELDS = ("first_name", "middle_name", "last_name", "dob", "sex", "ssn", "postal_code",
              "street_address", "city")
OPTIONS = NormalizationOptions(today=dt.date(2026, 11, 1))


def raw_columns(n: int, seed: int = 5) -> tuple[list[str], dict[str, list[object]]]:
    """Messy raw rows as an agency exports them: spacing, case, formats, blanks, junk."""
    rng = random.Random(seed)
    values: dict[str, list[object]] = {f: [] for f in RAW_FIELDS}
    choices = {
        "first_name": [" bill ", "William", "MARÍA", "jose-luis", "", None, "UNKNOWN", "Li"],
        "middle_name": ["henry", "J.", "", None],
        "last_name": ["Smith Jr", "García-López", "nguyen", "O'Connor", "", None, "12345"],
        "dob": ["03/07/2004", "2004-07-03", "1990-12-25", "13/13/2001", "", None, "1900-01-01"],
        "sex": ["M", "female", "x", "?", "", None],
        "ssn": ["219-09-9999", "000-12-3456", "219099998", "", None],
        "postal_code": ["23220-1234", "24401", "2440", "", None],
        "street_address": ["12 Main Street", "PO Box 4", "4 N. Oak Ave Apt 2", "", None],
        "city": ["Richmond", "STAUNTON", "", None],
    }
    for _ in range(n):
        for f in RAW_FIELDS:
            values[f].append(rng.choice(choices[f]))
    pids = [pseudonymous_id(b"\x66" * 32, "P-9", f"R{i}") for i in range(n)]
    return pids, values


def row_by_row(pids: list[str], raw: dict[str, list[object]]) -> tuple[pa.Table, int]:
    """The reference: normalise every row, then the one-process encoder."""
    identities = [
        normalize_identity({f: raw[f][i] for f in raw}, OPTIONS) for i in range(len(pids))
    ]
    usable = sum(any(x.present(f) for f in IDENTITY_FIELDS) for x in identities)
    return table(encode_batches(zip(pids, identities, strict=True), KEYS)), usable


@pytest.mark.slow
def test_raw_rows_in_worker_processes_give_the_row_by_row_bytes() -> None:
    pids, raw = raw_columns(2_500)
    chunks = list(normalize_and_encode_parallel(pids, raw, OPTIONS, KEYS, workers=2,
                                                chunk_size=300, threshold=1))
    expected, usable = row_by_row(pids, raw)
    assert [c.batch.num_rows for c in chunks] == [300] * 8 + [100]
    assert table(c.batch for c in chunks).equals(expected)
    assert sum(c.usable for c in chunks) == usable
    assert 0 < usable < len(pids)  # the messy rows hold some with nothing usable


def test_raw_rows_usable_counted_per_chunk(monkeypatch) -> None:
    monkeypatch.setattr(parallel_encoding, "_pool", lambda workers: _InlinePool())
    pids, raw = raw_columns(40)
    for f in RAW_FIELDS:  # rows 10-19: nothing usable at all
        raw[f][10:20] = [""] * 10
    chunks = list(normalize_and_encode_parallel(pids, raw, OPTIONS, KEYS, workers=2,
                                                chunk_size=10, threshold=1))
    assert chunks[1].usable == 0
    assert chunks[1].batch.num_rows == 10  # unusable rows are still encoded, never dropped
    assert table(c.batch for c in chunks).column("pid").to_pylist() == pids


def test_raw_rows_small_input_in_this_process(monkeypatch) -> None:
    def no_pool(workers: int):
        raise AssertionError("no worker process for a small input")

    monkeypatch.setattr(parallel_encoding, "_pool", no_pool)
    pids, raw = raw_columns(60)
    chunks = list(normalize_and_encode_parallel(pids, raw, OPTIONS, KEYS, chunk_size=25))
    assert [c.batch.num_rows for c in chunks] == [25, 25, 10]
    assert table(c.batch for c in chunks).equals(row_by_row(pids, raw)[0])


def test_raw_rows_survive_dead_workers(monkeypatch) -> None:
    monkeypatch.setattr(parallel_encoding, "_pool", lambda workers: _DeadPool())
    pids, raw = raw_columns(50)
    chunks = list(normalize_and_encode_parallel(pids, raw, OPTIONS, KEYS, workers=2,
                                                chunk_size=20, threshold=1))
    assert table(c.batch for c in chunks).equals(row_by_row(pids, raw)[0])


def test_raw_rows_unknown_column_refused() -> None:
    pids, raw = raw_columns(3)
    raw["record_id"] = ["A", "B", "C"]
    with pytest.raises(ValueError, match="not identity fields: record_id"):
        list(normalize_and_encode_parallel(pids, raw, OPTIONS, KEYS))


def test_raw_rows_misaligned_column_refused() -> None:
    pids, raw = raw_columns(3)
    raw["city"] = raw["city"][:2]
    with pytest.raises(ValueError, match="one value per pid"):
        list(normalize_and_encode_parallel(pids, raw, OPTIONS, KEYS))


def test_raw_rows_local_record_id_refused(monkeypatch) -> None:
    monkeypatch.setattr(parallel_encoding, "_pool", lambda workers: _InlinePool())
    pids, raw = raw_columns(30)
    pids[12] = "LOCAL-0012"
    with pytest.raises(EncodingError, match="pseudonym"):
        list(normalize_and_encode_parallel(pids, raw, OPTIONS, KEYS, workers=2, chunk_size=10,
                                           threshold=1))


def _encode_in_child() -> None:
    """Runs in a spawned process: use the worker pool, then return (and exit)."""
    records = identities(40)
    got = table(encode_batches_parallel(records, KEYS, workers=2, chunk_size=10, threshold=1))
    assert got.num_rows == 40


@pytest.mark.slow
def test_a_multiprocessing_child_that_used_the_pool_exits() -> None:
    """multiprocessing's exit path skips atexit and joins the children a process started;
    the pool must be shut down before that join, or the child never exits."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(target=_encode_in_child)
    child.start()
    child.join(timeout=90)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail("the child hung at exit, joining its idle pool workers")
    assert child.exitcode == 0


# -- encode_column_batches_parallel: chunks already in columns (the match stream) --------


def column_chunks(sizes: list[int]) -> list[tuple[list[str], IdentityColumns]]:
    records = identities(sum(sizes), seed=9)
    out, lo = [], 0
    for size in sizes:
        part = records[lo : lo + size]
        out.append(([p for p, _ in part], IdentityColumns.of([x for _, x in part])))
        lo += size
    return out


def expected_batches(chunks) -> list[pa.RecordBatch]:
    return [encode_columns(pids, columns, KEYS) for pids, columns in chunks]


@pytest.mark.slow
def test_column_chunks_in_worker_processes_give_one_batch_each_in_order() -> None:
    chunks = column_chunks([300, 5, 280, 300, 1])
    got = list(encode_column_batches_parallel(chunks, KEYS, workers=2, threshold=1))
    assert [b.num_rows for b in got] == [300, 5, 280, 300, 1]
    assert all(g.equals(e) for g, e in zip(got, expected_batches(chunks), strict=True))


def test_column_chunks_below_the_threshold_stay_in_this_process(monkeypatch) -> None:
    def no_pool(workers: int):
        raise AssertionError("no worker process for a small input")

    monkeypatch.setattr(parallel_encoding, "_pool", no_pool)
    chunks = column_chunks([10, 10, 9])
    got = list(encode_column_batches_parallel(chunks, KEYS, workers=2, threshold=30))
    assert all(g.equals(e) for g, e in zip(got, expected_batches(chunks), strict=True))


def unit_chunks(sizes: list[int]) -> list[tuple[list[str], IdentityColumns, list[int]]]:
    """Chunks of units (an agency person's identity versions): unit u of a chunk has
    1 + u % 3 versions."""
    records = identities(sum(sizes) * 3, seed=11)
    out, lo = [], 0
    for size in sizes:
        owners = [u for u in range(size) for _ in range(1 + u % 3)]
        part = records[lo : lo + len(owners)]
        pids = [part[owners.index(u)][0] for u in range(size)]
        out.append((pids, IdentityColumns.of([x for _, x in part]), owners))
        lo += len(owners)
    return out


@pytest.mark.slow
def test_unit_chunks_in_worker_processes_give_one_row_per_unit_in_order() -> None:
    chunks = unit_chunks([200, 3, 150])
    got = list(encode_column_batches_parallel(chunks, KEYS, workers=2, threshold=1))
    assert [b.num_rows for b in got] == [200, 3, 150]
    expected = [encode_unit_columns(p, o, c, KEYS) for p, c, o in chunks]
    assert all(g.equals(e) for g, e in zip(got, expected, strict=True))


def test_unit_and_record_chunks_mix_in_one_stream(monkeypatch) -> None:
    monkeypatch.setattr(parallel_encoding, "_pool", lambda workers: _DeadPool())
    units, records = unit_chunks([12]), column_chunks([7])
    got = list(encode_column_batches_parallel([*units, *records], KEYS, workers=2, threshold=1))
    (pids, columns, owners), (rpids, rcolumns) = units[0], records[0]
    assert got[0].equals(encode_unit_columns(pids, owners, columns, KEYS))
    assert got[1].equals(encode_columns(rpids, rcolumns, KEYS))


def test_column_chunks_read_lazily_and_survive_dead_workers(monkeypatch) -> None:
    monkeypatch.setattr(parallel_encoding, "_pool", lambda workers: _DeadPool())
    read = 0

    def stream():
        nonlocal read
        for chunk in column_chunks([10] * 50):
            read += 1
            yield chunk

    batches = encode_column_batches_parallel(stream(), KEYS, workers=2, threshold=15)
    first = next(batches)
    assert first.num_rows == 10
    assert read <= 2 + 2 * 2 + 1  # the threshold look-ahead and a bounded window
    rest = list(batches)
    assert len(rest) == 49
