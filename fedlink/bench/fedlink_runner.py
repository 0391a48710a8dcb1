"""Fedlink in the benchmark: the node's encoding path and the hub's engine, as deployed.

Records go through what a node runs — :func:`protocol.normalize.normalize_identity` at
ingest, then per match request :func:`protocol.keys.pseudonymous_ids` and
:func:`agency_node.services.parallel_encoding.encode_batches_parallel` (the node's worker
pool: one process per CPU once a stream holds 20,000 records or more, in this process
below that; the match handler, ``agency_node.services.match``, hands the same pool its
store pages as columns, which the bench does not time) — and the token tables
go to :func:`hub.linkage.link` with its
default :class:`~hub.linkage.LinkageConfig`, all agencies in one multi-agency run. The
clusters are scored per agency pair by :func:`hub.linkage.evaluate.pairwise_scores`.
Encoding throughput is also measured from clear text as ``fedlink link`` runs it
(:func:`~agency_node.services.parallel_encoding.normalize_and_encode_parallel`), see
:func:`throughput`.

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
    normalize_and_encode_parallel,
)
from fedlink.bench.datasets import AccuracyData, raw_rows
from fedlink.bench.worker import stage
from hub.linkage import LinkageConfig, link
from hub.linkage.evaluate import pairwise_scores
from protocol.encoding import token_batch_schema
from protocol.identity import IDENTITY_FIELDS
from protocol.keys import ProjectKeys, derive_project_keys, pseudonymous_ids
from protocol.normalize import NormalizationOptions, normalize_identity

PROJECT = "fedlink-bench"
_SECRET = hashlib.sha256(b"fedlink bench federation secret").digest()
_SALT = hashlib.sha256(b"fedlink bench project salt").digest()
NODE_KEY = hashlib.sha256(b"fedlink bench node key").digest()


def bench_keys() -> ProjectKeys:
    return derive_project_keys(_SECRET, _SALT, project_id=PROJECT,
                               project_digest=hashlib.sha256(b"fedlink bench terms").hexdigest())


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


def dedup(spec: dict[str, Any]) -> dict[str, Any]:
    """Encode the data set's one source and deduplicate it (``LinkageConfig.dedup``);
    score the clusters over all true pairs (pairs of records sharing the truth id)."""
    data = AccuracyData.load(spec["root"])
    (source,) = data.sources
    stage(f"normalise + encode {source}")
    raw = data.raw(source)
    started = time.perf_counter()
    identities = normalize_frame(raw, data.options())
    table, pids = encode_identities(raw["record_id"].tolist(), identities, bench_keys())
    encode_s = time.perf_counter() - started
    stage("deduplicate")
    started = time.perf_counter()
    result = link({source: table}, LinkageConfig(dedup=(source,)))
    link_s = time.perf_counter() - started
    clusters = result.clusters.to_pandas().merge(
        pd.DataFrame({"pid": pids, "truth_id": raw["truth_id"]}), on="pid", how="left"
    )
    score = pairwise_scores(clusters, source="agency")[-1]
    return {
        "clusters": score.as_dict(),
        "seconds": {"encode": encode_s, "link": link_s},
        "candidates": result.report["summary"].get("candidates"),
        "within_clusters": result.report["deduplication"]["within_clusters"],
        "records": table.num_rows,
    }


def throughput(spec: dict[str, Any]) -> dict[str, Any]:
    """Records per second from clear text to token batches, on the records the CLK peer
    encodes, measured two ways.

    - ``clear_text``: what ``fedlink link`` runs (:func:`normalize_and_encode_parallel`):
      pseudonyms, then normalisation and encoding together in one worker process per CPU.
      This is the encoder's throughput on clear text, as clkhash's is measured.
    - the node path (``normalize`` + ``encode``): normalisation as the node's ingest runs
      it (one process, row by row, once per record and stored), then the encoding as its
      match handler does (pseudonyms, then :func:`encode_batches_parallel`, one worker
      process per CPU).

    The worker pool is started by an untimed warm-up stream first: a node (or a ``fedlink
    link`` run) starts it on its first large input and keeps it, so the figures are not
    those of interpreter start-up.
    """
    frame = pd.read_parquet(spec["raw"])
    keys = bench_keys()
    record_ids = frame["record_id"].tolist()
    options = NormalizationOptions()
    raw = {f: frame[f].tolist() for f in IDENTITY_FIELDS if f in frame.columns}
    stage("start the encoding workers (untimed)")
    warm = min(len(record_ids), PARALLEL_THRESHOLD)
    _clear_text(record_ids[:warm], {f: v[:warm] for f, v in raw.items()}, options, keys)
    stage(f"clear text to tokens: {len(frame):,} records")
    started = time.perf_counter()
    rows = _clear_text(record_ids, raw, options, keys)
    clear_text = time.perf_counter() - started
    stage(f"node path: normalise {len(frame):,} records")
    started = time.perf_counter()
    identities = normalize_frame(frame, options)
    normalized = time.perf_counter()
    stage(f"node path: encode {len(frame):,} records")
    begun = time.perf_counter()
    table, _ = encode_identities(record_ids, identities, keys)
    encoded = time.perf_counter()
    if table.num_rows != rows:
        raise RuntimeError("the two encoding paths gave different row counts")
    workers = os.cpu_count() or 1
    parallel = workers > 1 and len(record_ids) >= PARALLEL_THRESHOLD
    return {
        "records": table.num_rows,
        "seconds": {"clear_text": clear_text, "normalize": normalized - started,
                    "encode": encoded - begun},
        # Normalisation: the ingest process; encoding: the match handler's worker processes.
        "processes": {"clear_text": workers if parallel else 1, "normalize": 1,
                      "encode": workers if parallel else 1},
    }


def _clear_text(record_ids: list[str], raw: dict[str, list[Any]], options: NormalizationOptions,
                keys: ProjectKeys) -> int:
    """``fedlink link``'s encoding: pseudonyms, then normalise + encode in the workers."""
    pids = pseudonymous_ids(NODE_KEY, PROJECT, record_ids)
    chunks = normalize_and_encode_parallel(pids, raw, options, keys)
    return pa.Table.from_batches([c.batch for c in chunks], schema=token_batch_schema()).num_rows
