"""Fedlink in the benchmark: the node's encoding path and the hub's engine, as deployed.

Records go through what a node runs — :func:`protocol.normalize.normalize_identity` at
ingest, then per match request :func:`protocol.keys.pseudonymous_id` and
:func:`protocol.encoding.encode_batches` (one process: the node encodes a match stream
in its request handler) — and the token tables go to :func:`hub.linkage.link` with its
default :class:`~hub.linkage.LinkageConfig`, all agencies in one multi-agency run. The
clusters are scored per agency pair by :func:`hub.linkage.evaluate.pairwise_scores`.

The keys are fixed bench keys (derived from a constant), so a run is reproducible; they
protect nothing and never leave the benchmark.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pandas as pd
import pyarrow as pa

from fedlink.bench.datasets import AccuracyData, raw_rows
from fedlink.bench.worker import stage
from hub.linkage import LinkageConfig, link
from hub.linkage.evaluate import pairwise_scores
from protocol.encoding import DEFAULT_BATCH_SIZE, encode_batches
from protocol.keys import ProjectKeys, derive_project_keys, pseudonymous_id
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
    """What the node's match stream does: pseudonyms, then token batches."""
    pids = [pseudonymous_id(NODE_KEY, PROJECT, r) for r in record_ids]
    batches = encode_batches(zip(pids, identities, strict=True), keys, DEFAULT_BATCH_SIZE)
    return pa.Table.from_batches(list(batches)), pids


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
    """Records per second of the node path on the same records the CLK peer encodes."""
    frame = pd.read_parquet(spec["raw"])
    keys = bench_keys()
    stage(f"normalise {len(frame):,} records")
    started = time.perf_counter()
    identities = normalize_frame(frame, NormalizationOptions())
    normalized = time.perf_counter()
    stage(f"encode {len(frame):,} records")
    table, _ = encode_identities(frame["record_id"].tolist(), identities, keys)
    encoded = time.perf_counter()
    return {
        "records": table.num_rows,
        "seconds": {"normalize": normalized - started, "encode": encoded - normalized},
        "processes": 1,
    }
