"""The partitioned run: landed token files in, the in-memory engine's result out.

Stages (each a set of independent tasks on the executor; ``docs/scaling.md``):

1. *partition* — each agency's file, chunk by chunk: key-column tokens hash-partitioned,
   comparison columns written (:mod:`.stage_partition`);
2. *block* — per key column and partition: shared tokens kept, blocks joined and capped,
   pairs routed to buckets (:mod:`.stage_block`); the pair budget is then applied from
   the summed block sizes;
3. *index* — per agency and key column: the kept tokens in row order (:mod:`.stage_index`);
4. *compare* — per bucket: the union of its pairs compared, pattern counts returned, and
   the bucket's share of the random sample compared (:mod:`.stage_compare`);
5. *fit* — here: the model fitted on the summed pattern counts, as :func:`hub.linkage.link`
   fits it;
6. *score* — per bucket: weights, the accepted pairs kept;
7. *assign* — here: one-to-one, clusters, tables and report from the accepted pairs.

The random sample is drawn here with the in-memory engine's generator and order, so on the
same input the model, the links and the clusters are the in-memory engine's (tested).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hub.linkage.candidates import Candidates
from hub.linkage.config import (
    BLOCKING_KEY_PREFIX,
    BLOOM_PREFIX,
    MATCH_KEY_PREFIX,
    PID_COLUMN,
    LinkageConfig,
    LinkageError,
    ProgressCallback,
)
from hub.linkage.dedup import check_dedup
from hub.linkage.engine import (
    LinkageResult,
    add_dedup_report,
    cluster_outcomes,
    clusters_table,
    comparator_for,
    links_table,
    random_draws,
)
from hub.linkage.partitioned import fit as fitting
from hub.linkage.partitioned.executor import Executor, open_executor
from hub.linkage.partitioned.layout import (
    AgencyPlan,
    RunPlan,
    new_column,
    read_rows,
    release_cache,
)
from hub.linkage.partitioned.options import ScaleOptions, plan_sizes
from hub.linkage.partitioned.stage_block import block_partition
from hub.linkage.partitioned.stage_compare import compare_bucket, score_bucket
from hub.linkage.partitioned.stage_index import index_key
from hub.linkage.partitioned.stage_partition import partition_chunk
from hub.linkage.report import AgencyFacts, PairOutcome, build_report
from hub.linkage.tokens import AgencyTokens

#: Rows per *partition* task (whole record batches of the landed file).
CHUNK_ROWS = 500_000


def _noop(stage: str, completed: int, total: int) -> None:
    del stage, completed, total


def link_files(
    paths: Mapping[str, Path],
    config: LinkageConfig | None = None,
    options: ScaleOptions | None = None,
    progress: ProgressCallback | None = None,
    *,
    executor: Executor | None = None,
) -> LinkageResult:
    """Link agencies' landed token files (agency → Arrow IPC file in
    ``protocol.encoding.token_batch_schema()``) partition by partition, on the executor
    ``options.scheduler`` names (or ``executor``, one the caller opened: a measurement of
    another engine runs the same tasks this way).

    Raises :class:`~hub.linkage.config.LinkageError` for files it cannot link, as
    :func:`hub.linkage.link` does for tables.
    """
    config = config or LinkageConfig()
    options = options or ScaleOptions(engine="partitioned")
    if config.bloom_blocking:
        raise LinkageError("bloom_blocking is not available in the partitioned engine")
    report_progress = progress or _noop
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="fedlink-link-", dir=options.workdir or None))
    try:
        plan = _plan(paths, config, options, root)
        with (nullcontext(executor) if executor else open_executor(options)) as running:
            result = _run(plan, config, running, report_progress, started)
            result.report["partitions"]["scheduler"] = running.description
            result.report["partitions"]["workers"] = running.workers
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _plan(paths: Mapping[str, Path], config: LinkageConfig, options: ScaleOptions,
          root: Path) -> RunPlan:
    dedup = check_dedup(paths, config.dedup)
    if len(paths) < 2 and not (len(paths) == 1 and set(paths) <= set(dedup)):
        raise LinkageError(
            "linkage needs token tables from at least two agencies, or one listed in dedup")
    agencies, keys, blooms, widths, tokens_per_record = [], set(), set(), {}, 1.0
    for name in sorted(paths):
        try:
            reader = pa.ipc.open_file(pa.memory_map(str(paths[name])))
        except (OSError, pa.ArrowInvalid):
            raise LinkageError(f"the token file of {name} is not an Arrow IPC file") from None
        schema = reader.schema
        if PID_COLUMN not in schema.names:
            raise LinkageError(f"the token table of {name} has no {PID_COLUMN} column")
        _check_pids(reader, name)
        for field in schema:
            if field.name.startswith((MATCH_KEY_PREFIX, BLOCKING_KEY_PREFIX)):
                keys.add(field.name)
            elif field.name.startswith(BLOOM_PREFIX):
                if not pa.types.is_fixed_size_binary(field.type):
                    raise LinkageError(f"column {name}.{field.name} is {field.type}, "
                                       "expected fixed-size Bloom filters")
                blooms.add(field.name)
                widths[field.name] = max(widths.get(field.name, 1), field.type.byte_width)
        rows = [0]
        for i in range(reader.num_record_batches):
            rows.append(rows[-1] + reader.get_batch(i).num_rows)
        if reader.num_record_batches:
            tokens_per_record = max(tokens_per_record, _tokens_per_record(reader.get_batch(0)))
        agencies.append(AgencyPlan(name=name, path=str(paths[name]), size=rows[-1],
                                   batch_rows=rows, dedup=name in dedup))
    key_list = sorted(keys, key=lambda k: (not k.startswith(MATCH_KEY_PREFIX), k))
    if not key_list:
        raise LinkageError("the token tables have no match-key or blocking-key column")
    sizes = plan_sizes(options, [a.size for a in agencies], tokens_per_record)
    pairs = list(itertools.combinations(range(len(agencies)), 2))
    pairs += [(i, i) for i, a in enumerate(agencies) if a.dedup]
    config_dict = {f: getattr(config, f) for f in config.__dataclass_fields__}
    plan = RunPlan(
        workdir=str(root), agencies=agencies, keys=key_list, blooms=sorted(blooms),
        bloom_widths=widths, partitions=sizes.partitions, slice_rows=sizes.slice_rows,
        pairs=pairs, block_caps=config.block_caps(key_list), config=config_dict)
    plan.save()
    for a, agency in enumerate(agencies):
        for k in range(len(key_list)):
            new_column(plan.column(a, f"emitted-{k}"), (agency.size,), np.bool_)
        for name in plan.blooms:
            new_column(plan.column(a, f"{name}.bits"), (agency.size, widths[name]), np.uint8)
            new_column(plan.column(a, f"{name}.valid"), (agency.size,), np.bool_)
            new_column(plan.column(a, f"{name}.ones"), (agency.size,), np.int32)
    return plan


def _check_pids(reader: pa.ipc.RecordBatchFileReader, name: str) -> None:
    pids = _pid_column(reader)
    if pids.null_count:
        raise LinkageError(f"the token table of {name} has rows without a pid")
    if pc.count_distinct(pids).as_py() != len(pids):
        raise LinkageError(f"the token table of {name} repeats a pid")


def _pid_column(reader: pa.ipc.RecordBatchFileReader) -> pa.ChunkedArray:
    """The pids of a landed file, memory-mapped (read at the start to check them and again
    at the end for the tables: not held through the run)."""
    return pa.chunked_array([reader.get_batch(i).column(PID_COLUMN)
                             for i in range(reader.num_record_batches)],
                            type=reader.schema.field(PID_COLUMN).type)


def _tokens_per_record(batch: pa.RecordBatch) -> float:
    """The most tokens a record holds in one key column (a partition's load)."""
    most = 1.0
    for name in batch.schema.names:
        if name.startswith((MATCH_KEY_PREFIX, BLOCKING_KEY_PREFIX)) and batch.num_rows:
            lengths = pc.list_value_length(batch.column(name))
            most = max(most, float(pc.mean(lengths).as_py() or 0.0))
    return most


def _chunks(plan: RunPlan) -> list[dict[str, Any]]:
    specs = []
    for a, agency in enumerate(plan.agencies):
        lo, chunk = 0, 0
        rows = agency.batch_rows
        while lo < len(rows) - 1:
            hi = lo + 1
            while hi < len(rows) - 1 and rows[hi + 1] - rows[lo] <= CHUNK_ROWS:
                hi += 1
            specs.append({"workdir": plan.workdir, "agency": a, "batch_lo": lo,
                          "batch_hi": hi, "chunk": chunk})
            lo, chunk = hi, chunk + 1
    return specs


def _run(plan: RunPlan, config: LinkageConfig, executor: Executor,
         progress: ProgressCallback, started: float) -> LinkageResult:
    timings: dict[str, float] = {}
    tasks: list[dict[str, Any]] = []
    clock = [time.perf_counter()]

    def lap(stage: str, results: list[dict[str, Any]] | None = None) -> None:
        now = time.perf_counter()
        timings[stage] = round(now - clock[0], 3)
        clock[0] = now
        for r in results or ():
            tasks.append({"stage": stage, "seconds": r["_seconds"],
                          **{k: r[k] for k in ("agency", "key", "partition", "pair", "bucket",
                                               "rows", "candidates", "accepted") if k in r}})

    parted = executor.run("partition", partition_chunk, _chunks(plan), progress)
    lap("partition", parted)
    # The landed files are read once; their cached pages would crowd out the comparison
    # columns the bucket tasks read again and again.
    for agency in plan.agencies:
        release_cache(Path(agency.path))
    blocked = executor.run("block", block_partition,
                           [{"workdir": plan.workdir, "key": k, "partition": p}
                            for k in range(len(plan.keys)) for p in range(plan.partitions)],
                           progress)
    lap("block", blocked)
    plan.drop("tokens")  # each stage's inputs go once read: disk, and page cache
    budgets = fitting.pair_budgets(plan, blocked, config.max_candidates)
    indexed = executor.run("index", index_key,
                           [{"workdir": plan.workdir, "agency": a, "key": k}
                            for a in range(len(plan.agencies)) for k in range(len(plan.keys))],
                           progress)
    lap("index", indexed)
    plan.drop("kept")
    samples = _draw_sample(plan, config)
    compare_specs = [
        {"workdir": plan.workdir, "pair": pair, "bucket": list(bucket),
         "budget_from": budgets[pair].skip_from, "sample": samples[pair].get(bucket)}
        for pair in range(len(plan.pairs)) for bucket in plan.buckets(pair)]
    compared = executor.run("compare", compare_bucket, compare_specs, progress)
    lap("compare", compared)
    plan.drop("pairs")

    progress("fit", 0, 1)
    specs = comparator_for(plan.keys, plan.blooms, config).specs
    fitted = fitting.fit(plan, config, specs, compared)
    progress("fit", 1, 1)
    lap("fit")

    scored = executor.run("score", score_bucket, [
        {"workdir": plan.workdir, "pair": s["pair"], "bucket": s["bucket"],
         "weights": fitted.weight_table(plan, s["pair"], config), "threshold": config.threshold}
        for s in compare_specs], progress)
    lap("score", scored)

    progress("assign", 0, 1)
    agencies = _agencies_with_pids(plan)
    outcomes = fitting.accepted_outcomes(plan, config, compare_specs, agencies)
    clustering = cluster_outcomes(agencies, plan.pairs, outcomes, config)
    facts = fitting.pair_facts_of(plan, config, outcomes, compared, blocked, budgets)
    progress("assign", 1, 1)
    lap("assign")
    timings["total"] = round(time.perf_counter() - started, 3)

    report = build_report(
        agencies=_agency_facts(plan, parted),
        specs=specs,
        model=fitted.model,
        pairs=facts,
        histogram=fitted.histogram(plan, config, compared, outcomes),
        cluster_ids=clustering.cluster,
        conflicts=(clustering.conflicting_components, clustering.links_refused),
        patterns=(fitted.patterns, fitted.counts),
        config=config,
        timings=timings,
    )
    dedup = {a.name for a in plan.agencies if a.dedup}
    if dedup:
        add_dedup_report(report, agencies, clustering.cluster, dedup, config)
    peaks: dict[str, int] = {}
    for r in (*parted, *blocked, *indexed, *compared, *scored):
        peaks[r["_process"]] = max(peaks.get(r["_process"], 0), r["_peak_rss"])
    report["partitions"] = {
        "engine": "partitioned", "partitions_per_key": plan.partitions,
        "slice_rows": plan.slice_rows, "tasks": tasks, "worker_peak_rss_bytes": peaks}
    return LinkageResult(clusters=clusters_table(agencies, clustering.cluster),
                         links=links_table(agencies, outcomes), model=fitted.model,
                         report=report)


def _draw_sample(plan: RunPlan, config: LinkageConfig) -> list[dict[tuple[int, int], Any]]:
    """The random pairs of :func:`hub.linkage.engine._random_sample` — the same generator,
    draws and order — grouped by bucket."""
    out: list[dict[tuple[int, int], Any]] = [{} for _ in plan.pairs]
    if config.u_source != "random" or config.method == "ecm":
        return out
    sizes = [(plan.agencies[a].size, plan.agencies[b].size, a == b) for a, b in plan.pairs]
    for pair, ((_, b), (lr, rr)) in enumerate(
            zip(plan.pairs, random_draws(sizes, config), strict=True)):
        bucket = (lr // plan.slice_rows) * plan.slices(b) + rr // plan.slice_rows
        for b_id in np.unique(bucket).tolist():
            mine = bucket == b_id
            out[pair][divmod(b_id, plan.slices(b))] = (lr[mine], rr[mine])
    return out


def _agencies_with_pids(plan: RunPlan) -> list[AgencyTokens]:
    agencies = []
    for agency in plan.agencies:
        reader = pa.ipc.open_file(pa.memory_map(agency.path))
        agencies.append(AgencyTokens(agency.name, _pid_column(reader).combine_chunks(), {}, {}))
    return agencies


def _agency_facts(plan: RunPlan, parted: list[dict[str, Any]]) -> list[AgencyFacts]:
    facts = []
    for a, agency in enumerate(plan.agencies):
        completeness: dict[str, float | None] = {}
        valid = {name: 0 for name in plan.blooms}
        for r in parted:
            if r["agency"] == a:
                for name, count in r["valid"].items():
                    valid[name] += count
        size = agency.size
        for name in plan.blooms:
            completeness[name] = round(valid[name] / size, 6) if size else None
        for k, name in enumerate(plan.keys):
            emitted = read_rows(plan.column(a, f"emitted-{k}"))
            completeness[name] = round(int(emitted.sum()) / size, 6) if size else None
        facts.append(AgencyFacts(agency.name, size, completeness))
    return facts


__all__ = ["Candidates", "PairOutcome", "link_files"]
