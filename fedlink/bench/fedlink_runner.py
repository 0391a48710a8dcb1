"""Fedlink in the benchmark: the node's encoding path and the hub's engine, as deployed.

Records go through what a node runs — :func:`protocol.normalize.normalize_identity` at
ingest, then per match request :func:`protocol.keys.pseudonymous_ids` and
:func:`agency_node.services.parallel_encoding.encode_batches_parallel` (what the node's
match handler, ``agency_node.services.match``, streams: one worker process per CPU once a
stream holds 20,000 records or more, in this process below that) — and the token tables
go to :func:`hub.linkage.link` with its
default :class:`~hub.linkage.LinkageConfig`, all agencies in one multi-agency run. The
clusters are scored per agency pair by :func:`hub.linkage.evaluate.pairwise_scores`.

The keys are fixed bench keys (derived from a constant), so a run is reproducible; they
protect nothing and never leave the benchmark.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

import pandas as pd
import pyarrow as pa

from agency_node.services.parallel_encoding import (
    DEFAULT_CHUNK_SIZE,
    PARALLEL_THRESHOLD,
    encode_batches_parallel,
)
from fedlink.bench.datasets import AccuracyData, raw_rows
from fedlink.bench.worker import stage
from hub.linkage import LinkageConfig, link
from hub.linkage.evaluate import pairwise_scores
from protocol.encoding import token_batch_schema
from protocol.keys import ProjectKeys, derive_project_keys, pseudonymous_ids
from protocol.normalize import NormalizationOptions, normalize_identity

PROJECT = "fedlink-bench"
_SECRET = hashlib.sha256(b"fedlink bench federation secret").digest()
_SALT = hashlib.sha256(b"fedlink bench project salt").digest()
NODE_KEY = hashlib.sha256(b"fedlink bench node key").digest()


def bench_keys() -> ProjectKeys:
    return derive_project_keys(_SECRET, _SALT)


def normalize_frame(frame: pd.DataFrame, options: NormalizationOptions) -> list[Any]:
    """What the node's ingest does to each row (the normalised identities)."""
    return [normalize_identity(row, options) for row in raw_rows(frame)]


def encode_identities(
    record_ids: list[str], identities: list[Any], keys: ProjectKeys
) -> tuple[pa.Table, list[str]]:
    """What the node's match stream does: pseudonyms, then token batches, encoded by the
    node's parallel encoder in chunks of its default size."""
    pids = pseudonymous_ids(NODE_KEY, PROJECT, record_ids)
    batches = encode_batches_parallel(zip(pids, identities, strict=True), keys,
                                      chunk_size=DEFAULT_CHUNK_SIZE)
    return pa.Table.from_batches(list(batches), schema=token_batch_schema()), pids


def accuracy(spec: dict[str, Any]) -> dict[str, Any]:
    """Encode every source of the data set, link them in one run, score each pair."""
    data = AccuracyData.load(spec["root"])
    keys = bench_keys()
    tables, truths = {}, []
    normalize_s = encode_s = 0.0
    for source in data.sources:
        stage(f"normalise + encode {source}")
        raw = data.raw(source)
        started = time.perf_counter()
        identities = normalize_frame(raw, data.options())
        normalized = time.perf_counter()
        tables[source], pids = encode_identities(raw["record_id"].tolist(), identities, keys)
        normalize_s += normalized - started
        encode_s += time.perf_counter() - normalized
        truths.append(pd.DataFrame({"agency": source, "pid": pids, "truth_id": raw["truth_id"]}))
    stage("link")
    started = time.perf_counter()
    result = link(tables, LinkageConfig())
    link_s = time.perf_counter() - started
    clusters = result.clusters.to_pandas().merge(
        pd.concat(truths, ignore_index=True), on=["agency", "pid"], how="left"
    )
    scores = pairwise_scores(clusters, source="agency")
    summary = result.report["summary"]
    return {
        "pairs": [s.as_dict() for s in scores if s.left != "*"],
        "seconds": {"normalize": normalize_s, "encode": encode_s, "link": link_s},
        "engine_timings": result.report.get("timings", {}),
        "candidates": summary.get("candidates"),
        "records": int(sum(t.num_rows for t in tables.values())),
    }


def throughput(spec: dict[str, Any]) -> dict[str, Any]:
    """Records per second of the node path on the same records the CLK peer encodes.

    Normalisation runs as the node's ingest runs it (one process, row by row); encoding as
    its match handler does (pseudonyms, then :func:`encode_batches_parallel`: one worker
    process per CPU). The worker pool is started by an untimed warm-up stream first: a node
    starts it on its first large match request and keeps it, so a served request does not
    pay for it.
    """
    frame = pd.read_parquet(spec["raw"])
    keys = bench_keys()
    record_ids = frame["record_id"].tolist()
    stage(f"normalise {len(frame):,} records")
    started = time.perf_counter()
    identities = normalize_frame(frame, NormalizationOptions())
    normalized = time.perf_counter()
    stage("start the node's encoding workers (untimed)")
    warm = min(len(record_ids), PARALLEL_THRESHOLD)
    encode_identities(record_ids[:warm], identities[:warm], keys)
    stage(f"encode {len(frame):,} records")
    begun = time.perf_counter()
    table, _ = encode_identities(record_ids, identities, keys)
    encoded = time.perf_counter()
    workers = os.cpu_count() or 1
    parallel = workers > 1 and len(record_ids) >= PARALLEL_THRESHOLD
    return {
        "records": table.num_rows,
        "seconds": {"normalize": normalized - started, "encode": encoded - begun},
        # Normalisation: the ingest process; encoding: the match handler's worker processes.
        "processes": {"normalize": 1, "encode": workers if parallel else 1},
    }
