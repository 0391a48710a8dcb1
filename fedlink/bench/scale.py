"""The hub at scale: two agencies' token tables of N records each, linked by the engine.

:func:`prepare` builds them once — K-12 and workforce records of one synthetic population
(:func:`fedlink.bench.datasets.synth_sides`), normalised and encoded in the worker
processes as ``fedlink link`` does it (data preparation, not a measurement) — and caches
them as Arrow IPC files under a key that changes with the protocol's and the generator's
source, so a changed encoding is never linked from a stale cache. :func:`link_tables` runs
in a fresh process: it reads the tables, times :func:`hub.linkage.link` alone, takes the
process's peak RSS, and only then scores the result against the truth.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.ipc

from agency_node.services.parallel_encoding import normalize_and_encode_parallel
from fedlink.bench.datasets import clean_frame, synth_sides
from fedlink.bench.fedlink_runner import NODE_KEY, PROJECT, bench_keys
from fedlink.bench.worker import peak_rss_bytes, stage
from hub.linkage import LinkageConfig, link
from hub.linkage.evaluate import pairwise_scores
from protocol.encoding import token_batch_schema
from protocol.identity import IDENTITY_FIELDS
from protocol.keys import pseudonymous_ids
from protocol.normalize import NormalizationOptions

SIDES = ("k12", "workforce")
_CHUNK = 50_000
#: Records a side per synthetic population above which :func:`population_chunks` splits.
CHUNK_RECORDS = 1_000_000
#: Above ``CHUNK_RECORDS`` a side, the data is made of regions (:func:`population_chunks`);
#: part of the cache key, so a change of layout is never read from a stale cache.
CHUNK_LAYOUT = "regions1"
REGION_ZIP_STEP = 3_000


def encoding_fingerprint() -> str:
    """What the cached tables depend on, measured rather than listed: the token tables of
    a small fixed synthetic population, encoded as :func:`prepare` encodes, hashed. Any
    change to the generator, the normalisation or the encodings changes them (and so the
    key); a change elsewhere in ``protocol`` (the wire messages, say) does not throw away
    an hour of prepared ten-million-record tables."""
    digest = hashlib.sha256()
    for name, frame in zip(SIDES, synth_sides(200, 1), strict=True):
        digest.update(name.encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        for table, _ in _encode_side(frame):
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            digest.update(sink.getvalue().to_pybytes())
    return digest.hexdigest()[:16]


def cache_path(cache_dir: str | Path, size: int, seed: int) -> Path:
    layout = f"-{CHUNK_LAYOUT}" if size > CHUNK_RECORDS else ""
    return Path(cache_dir) / f"scale-{size}-seed{seed}{layout}-{encoding_fingerprint()}"


def population_chunks(size: int, seed: int) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Both sides of ``size`` records each, in chunks of at most :data:`CHUNK_RECORDS`.

    Up to a million a side, one population (as it always was). Above it, one population
    of a million a side per *region* of the state (seeded ``seed``, ``seed + 1``…), its
    record and person ids prefixed with the region's number so none collide, and its ZIP
    codes moved into a range of its own: the generator draws every population's addresses
    from one set of 988 ZIP codes and 4,000 street names, so without regions the people
    sharing a street and ZIP code would grow with the population — ten times the people,
    a hundred times the pairs of the address keys — where a real state's addresses grow
    with its people. Names and birth dates are drawn from the same vocabularies in every
    region, so they collide across regions as they would in one large population. (One
    population of 31 million people does not fit the generator's memory either.)
    """
    if size <= CHUNK_RECORDS:
        yield synth_sides(size, seed)
        return
    for number, lo in enumerate(range(0, size, CHUNK_RECORDS)):
        n = min(CHUNK_RECORDS, size - lo)
        sides = synth_sides(n, seed + number)
        for frame in sides:
            for column in ("record_id", "truth_id"):
                frame[column] = f"c{number}-" + frame[column].astype(str)
            frame["postal_code"] = _regional_zip(frame["postal_code"], number)
        yield sides


def _regional_zip(postal: pd.Series, region: int) -> pd.Series:
    """ZIP codes (``12345``, ``12345-6789``, ``123456789``) moved ``REGION_ZIP_STEP ×
    region`` up: the generator's ZIP codes span less than the step, so regions never
    share one."""
    text = postal.astype("string")
    head = pd.to_numeric(text.str.slice(0, 5), errors="coerce")
    moved = (head + REGION_ZIP_STEP * region).astype("Int64").astype("string").str.zfill(5)
    out = moved.str.cat(text.str.slice(5)).astype(object)
    return out.where(head.notna().to_numpy(), postal)


def _encode_side(frame: pd.DataFrame) -> Iterator[tuple[pa.RecordBatch, list[str]]]:
    """One side's token batches and their pids, normalised and encoded as ``fedlink link``
    does it (:func:`normalize_and_encode_parallel`: both steps in the worker processes)."""
    keys = bench_keys()
    for lo in range(0, len(frame), _CHUNK):
        part = frame.iloc[lo : lo + _CHUNK]
        pids = pseudonymous_ids(NODE_KEY, PROJECT, part["record_id"].tolist())
        raw = {f: part[f].tolist() for f in IDENTITY_FIELDS if f in part.columns}
        batches = [c.batch for c in normalize_and_encode_parallel(
            pids, raw, NormalizationOptions(), keys)]
        yield pa.Table.from_batches(batches, schema=token_batch_schema()), pids


def prepare(spec: dict[str, Any]) -> dict[str, Any]:
    """Write ``<side>.arrow`` (tokens), ``<side>-truth.parquet`` (pid, truth_id) and, with
    ``clean``, ``<side>-clean.parquet`` (clear text for the CLK peer); reuse a cache."""
    size, seed = int(spec["size"]), int(spec["seed"])
    out = cache_path(spec["cache_dir"], size, seed)
    done = out / "done.json"
    if done.exists():
        meta = json.loads(done.read_text())
        if not spec.get("clean") or all((out / f"{s}-clean.parquet").exists() for s in SIDES):
            return meta | {"dir": str(out), "cached": True}
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    writers, sinks, truths = {}, {}, {name: [] for name in SIDES}
    try:
        for name in SIDES:
            sinks[name] = pa.OSFile(str(out / f"{name}.arrow"), "wb")
            writers[name] = pa.ipc.new_file(sinks[name], token_batch_schema())
        done_rows = 0
        for number, chunk in enumerate(population_chunks(size, seed)):
            stage(f"synthesised chunk {number + 1} ({done_rows:,} of {size:,} a side done)")
            for name, frame in zip(SIDES, chunk, strict=True):
                stage(f"encode {name} ({done_rows:,}+{len(frame):,} of {size:,})")
                pids: list[str] = []
                for table, chunk_pids in _encode_side(frame):
                    writers[name].write_table(table)
                    pids += chunk_pids
                truths[name].append(pd.DataFrame(
                    {"pid": pids, "truth_id": frame["truth_id"].to_numpy()}))
                if spec.get("clean"):
                    clean = clean_frame(frame, NormalizationOptions())
                    clean.to_parquet(out / f"{name}-clean-{number}.parquet", index=False)
            done_rows += len(chunk[0])
    finally:
        for name in writers:
            writers[name].close()
            sinks[name].close()
    for name in SIDES:
        pd.concat(truths[name], ignore_index=True).to_parquet(
            out / f"{name}-truth.parquet", index=False)
        if spec.get("clean"):
            parts = sorted(out.glob(f"{name}-clean-*.parquet"),
                           key=lambda p: int(p.stem.rsplit("-", 1)[1]))
            pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True).to_parquet(
                out / f"{name}-clean.parquet", index=False)
            for part in parts:
                part.unlink()
    meta = {"size": size, "seed": seed, "prepare_seconds": time.perf_counter() - started}
    done.write_text(json.dumps(meta) + "\n")
    return meta | {"dir": str(out), "cached": False}


def link_tables(spec: dict[str, Any]) -> dict[str, Any]:
    """Time :func:`hub.linkage.link` on the prepared tables; peak RSS; then the scores."""
    root = Path(spec["dir"])
    stage("read token tables")
    started = time.perf_counter()
    tables = {}
    for name in SIDES:
        # Read into memory (not memory-mapped): the hub holds what the nodes streamed.
        # One chunk per column, as the hub's fetch holds a node's stream
        # (hub.services.node_fetch).
        with pa.OSFile(str(root / f"{name}.arrow")) as source:
            tables[name] = pa.ipc.open_file(source).read_all().combine_chunks()
    read_s = time.perf_counter() - started
    input_rss = peak_rss_bytes()
    stage(f"link {tables[SIDES[0]].num_rows:,} × {tables[SIDES[1]].num_rows:,}")
    started = time.perf_counter()
    result = link(tables, LinkageConfig())
    link_s = time.perf_counter() - started
    peak = peak_rss_bytes()
    stage("score")
    truth = pd.concat(
        [pd.read_parquet(root / f"{n}-truth.parquet").assign(agency=n) for n in SIDES],
        ignore_index=True,
    )
    clusters = result.clusters.to_pandas().merge(truth, on=["agency", "pid"], how="left")
    scores = pairwise_scores(clusters, source="agency")
    return {
        "records": {n: t.num_rows for n, t in tables.items()},
        "seconds": {"read": read_s, "link": link_s},
        "engine_timings": result.report.get("timings", {}),
        "candidates": result.report["summary"].get("candidates"),
        "peak_rss_bytes": peak,
        "input_rss_bytes": input_rss,
        "pairs": [s.as_dict() for s in scores if s.left != "*"],
    }
