"""The linkage pipeline: token tables in, clusters, links, model and report out.

Pure computation over Arrow and NumPy — no HTTP, no database — so the same call serves the
offline ``fedlink link`` command and the hub worker. See ``docs/linkage.md``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from hub.linkage.assign import cluster_records
from hub.linkage.candidates import Candidates, candidate_pairs
from hub.linkage.cluster import cluster_with_duplicates
from hub.linkage.compare import FeatureSpec, compare_pairs, feature_specs
from hub.linkage.config import BLOOM_KEY_PREFIX, LinkageConfig, ProgressCallback
from hub.linkage.dedup import (
    check_dedup,
    dedup_report,
    pair_space,
    select_links,
    within_candidates,
    within_draws,
)
from hub.linkage.em import (
    FSModel,
    PairSample,
    aggregate_patterns,
    fit_ecm,
    fit_em,
    initial_posterior,
    pack_levels,
    probability,
)
from hub.linkage.features import field_features
from hub.linkage.household import coresident
from hub.linkage.report import (
    PairOutcome,
    agency_facts,
    build_report,
    outcomes_histogram,
    pair_facts,
)
from hub.linkage.salts import fixed_u, merge_unsalted, tied_levels, unsalted_as_missing
from hub.linkage.tokens import AgencyTokens, bloom_key, prepare

CLUSTERS_SCHEMA = pa.schema(
    [("agency", pa.string()), ("pid", pa.string()), ("cluster_id", pa.int64())]
)
LINKS_SCHEMA = pa.schema(
    [
        ("agency_a", pa.string()),
        ("pid_a", pa.string()),
        ("agency_b", pa.string()),
        ("pid_b", pa.string()),
        ("weight", pa.float64()),
        ("probability", pa.float64()),
    ]
)


@dataclass(frozen=True, slots=True)
class LinkageResult:
    """What one run produces.

    ``clusters``: ``agency, pid, cluster_id`` — every input row exactly once, singletons
    included, at most one row per agency per cluster. ``links``: the links the clusters are
    built from, with match weight (bits) and posterior probability. ``model``: the fitted
    Fellegi–Sunter model. ``report``: the quality report (JSON-ready dict, see
    :mod:`hub.linkage.report`).
    """

    clusters: pa.Table
    links: pa.Table
    model: FSModel
    report: dict[str, Any]


def _noop(stage: str, completed: int, total: int) -> None:
    del stage, completed, total


def link(
    tables: Mapping[str, pa.Table],
    config: LinkageConfig | None = None,
    progress: ProgressCallback | None = None,
) -> LinkageResult:
    """Link the token tables of two or more agencies (agency name → table in
    ``protocol.encoding.token_batch_schema()``).

    Raises :class:`hub.linkage.config.LinkageError` for tables it cannot link.
    """
    config = config or LinkageConfig()
    report_progress = progress or _noop
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 3)
        return now

    dedup = check_dedup(tables, config.dedup)
    agencies, keys, blooms = prepare(tables, dedup)
    report_progress("prepare", len(agencies), len(agencies))
    t = lap("prepare", started)
    levels_of = comparator_for(keys, blooms, config)
    specs = levels_of.specs
    block_keys = keys + add_bloom_keys(agencies, blooms, config)

    pairs = list(itertools.combinations(range(len(agencies)), 2))
    # Agencies that may hold duplicates are also paired with themselves, after the others.
    pairs += [(i, i) for i, a in enumerate(agencies) if a.name in dedup]
    found: list[Candidates] = []
    for i, (a, b) in enumerate(pairs):
        found.append(
            (within_candidates if a == b else candidate_pairs)(
                agencies[a],
                agencies[b],
                block_keys,
                max_block=config.max_block,
                max_candidates=config.max_candidates,
                block_caps=config.block_caps(block_keys),
            )
        )
        report_progress("candidates", i + 1, len(pairs))
    t = lap("candidates", t)

    codes = _compare_all(agencies, pairs, found, levels_of, config, report_progress)
    patterns, counts, inverse = aggregate_patterns(codes, specs)
    del codes
    t = lap("compare", t)

    report_progress("fit", 0, 1)
    if config.method == "ecm" and len(patterns):
        model = fit_ecm(patterns, counts, specs, max_iter=config.em_max_iter)
    else:
        sample = None
        if config.u_source == "random":
            sample = _random_sample(agencies, pairs, found, levels_of, config)
            sample = PairSample(merge_unsalted(sample.patterns, specs), sample.weights)
        fitted = merge_unsalted(patterns, specs)
        model, _ = fit_em(
            fitted,
            counts,
            specs,
            initial_posterior(fitted, specs),
            sample=sample,
            fixed_u=fixed_u(specs),
            tied=tied_levels(specs),
            # The household dependence where no one-to-one rule weighs a twin against
            # the twin's own record (docs/linkage.md: fitted into one-to-one runs too,
            # it cost 1M × 1M recall 0.9625 → 0.9579).
            conditional=coresident(specs, sum(a.size for a in agencies)) if config.dedup else (),
            max_iter=config.em_max_iter,
            tol=config.em_tol,
        )
    report_progress("fit", 1, 1)
    t = lap("fit", t)

    scored = unsalted_as_missing(patterns, specs)
    weights = model.match_weight(scored)[inverse]
    if model.conditional:
        weights = _one_to_one_weights(pairs, found, agencies, config, weights,
                                      model.match_weight(scored, conditional=False)[inverse])
    outcomes = assign_outcomes(agencies, pairs, found, weights, config)
    clustering = cluster_outcomes(agencies, pairs, outcomes, config)
    report_progress("assign", 1, 1)
    lap("assign", t)
    timings["total"] = round(time.perf_counter() - started, 3)

    clusters = clusters_table(agencies, clustering.cluster)
    links = links_table(agencies, outcomes)
    dedup_names = frozenset(config.dedup)
    report = build_report(
        agencies=[agency_facts(a) for a in agencies],
        specs=specs,
        model=model,
        pairs=[pair_facts(o, dedup_names) for o in outcomes],
        histogram=outcomes_histogram(outcomes),
        cluster_ids=clustering.cluster,
        conflicts=(clustering.conflicting_components, clustering.links_refused),
        patterns=(patterns, counts),
        config=config,
        timings=timings,
    )
    if dedup:
        add_dedup_report(report, agencies, clustering.cluster, dedup, config)
    return LinkageResult(clusters=clusters, links=links, model=model, report=report)


def add_dedup_report(report: dict[str, Any], agencies: list[AgencyTokens], cluster: np.ndarray,
                     dedup: Collection[str], config: LinkageConfig) -> None:
    """The report's deduplication section, for the agencies declared to hold duplicates."""
    report["deduplication"] = dedup_report(agencies, cluster, dedup)
    report["summary"]["within_source_clusters"] = report["deduplication"]["within_clusters"]
    report["assumptions"].append(
        f"Declared to hold duplicates: {', '.join(sorted(dedup))}. A person may hold "
        "several records of these agencies, every accepted link inside one is kept, and "
        f"a cluster holds at most {config.max_cluster_size} records (chaining guard).")


def add_bloom_keys(
    agencies: list[AgencyTokens], blooms: list[str], config: LinkageConfig
) -> list[str]:
    """Add the hub-derived Bloom-equality blocking keys to every agency; their names."""
    names = []
    for combo in config.bloom_blocking:
        columns = tuple(combo.split("+"))
        if not all(c in blooms for c in columns):
            continue
        name = BLOOM_KEY_PREFIX + combo
        for agency in agencies:
            agency.keys[name] = bloom_key(agency, columns)
        names.append(name)
    return names


class Comparator:
    """Raw comparison (rules, Bloom levels) then, with ``features="fields"``, the field
    features the model uses."""

    def __init__(self, raw: list[FeatureSpec], config: LinkageConfig) -> None:
        self.raw = raw
        self.config = config
        self.fields = field_features(raw) if config.features == "fields" else None
        self.specs = list(self.fields.specs) if self.fields is not None else raw

    def codes(
        self, left: AgencyTokens, right: AgencyTokens, lr, rr, non_candidates=None,
        *, random_pairs: bool | None = None,
    ) -> np.ndarray:
        """Pattern codes of the pairs ``(lr, rr)``. ``non_candidates``: the pairs are the
        random sample and share no token outside these skipped blocks (a shortcut);
        ``random_pairs``: they are the random sample, key columns compared in full."""
        levels = compare_pairs(left, right, lr, rr, self.raw, self.config, non_candidates)
        if self.fields is not None:
            sample = non_candidates is not None if random_pairs is None else random_pairs
            levels = self.fields.derive(levels, random_pairs=sample)
        return pack_levels(levels, self.specs)


def comparator_for(keys: list[str], blooms: list[str], config: LinkageConfig) -> Comparator:
    """The comparator of a run over ``keys`` and ``blooms`` (what :func:`link` uses)."""
    return Comparator(feature_specs(keys, blooms, config), config)


def _compare_all(agencies, pairs, found, levels_of: Comparator, config, report_progress):
    total = sum(c.count for c in found)
    codes = np.zeros(total, dtype=np.int64)
    done = 0
    report_progress("compare", 0, total)
    for (a, b), cand in zip(pairs, found, strict=True):
        for start in range(0, cand.count, config.chunk_pairs):
            stop = min(cand.count, start + config.chunk_pairs)
            codes[done : done + stop - start] = levels_of.codes(
                agencies[a], agencies[b], cand.left_rows[start:stop], cand.right_rows[start:stop]
            )
            done += stop - start
            report_progress("compare", done, total)
    return codes


def _random_sample(agencies, pairs, found, levels_of: Comparator, config) -> PairSample:
    """Patterns of uniform random *non-candidate* record pairs, spread evenly over the
    agency pairs, each weighted so an agency pair's weights sum to its number of
    non-candidate pairs (every pair, weight 1, when there are fewer than its share)."""
    codes, weights = [], []
    sizes = [(agencies[a].size, agencies[b].size, a == b) for a, b in pairs]
    for (a, b), cand, (lr, rr) in zip(pairs, found, random_draws(sizes, config), strict=True):
        n_a, n_b = agencies[a].size, agencies[b].size
        known = np.sort(cand.left_rows * n_b + cand.right_rows)
        drawn = lr * n_b + rr
        pos = np.minimum(np.searchsorted(known, drawn), max(len(known) - 1, 0))
        fresh = known[pos] != drawn if len(known) else np.ones(len(drawn), dtype=bool)
        lr, rr = lr[fresh], rr[fresh]
        if len(lr) == 0:
            continue
        weight = (pair_space(n_a, n_b, a == b) - cand.count) / len(lr)
        for start in range(0, len(lr), config.chunk_pairs):
            stop = start + config.chunk_pairs
            chunk = levels_of.codes(
                agencies[a], agencies[b], lr[start:stop], rr[start:stop], cand.skipped_rows
            )
            codes.append(chunk)
            weights.append(np.full(len(chunk), weight))
    if not codes:
        return PairSample(np.zeros((0, len(levels_of.specs)), np.int8), np.zeros(0))
    patterns, _, inverse = aggregate_patterns(np.concatenate(codes), levels_of.specs)
    summed = np.bincount(inverse, weights=np.concatenate(weights), minlength=len(patterns))
    return PairSample(patterns, summed)


def random_draws(sizes: list[tuple[int, int, bool]], config: LinkageConfig):
    """The uniform random pairs of each agency pair ``(n_left, n_right, within)``, in
    order, from one generator seeded ``config.seed``: ``u_sample`` shared evenly, every
    pair when an agency pair has fewer. Both engines draw through this, so they draw the
    same pairs (the partitioned engine's model equals the in-memory one's)."""
    rng = np.random.default_rng(config.seed)
    share = max(1, config.u_sample // max(len(sizes), 1))
    for n_a, n_b, within in sizes:
        if n_a * n_b <= share:
            lr = np.repeat(np.arange(n_a, dtype=np.int64), n_b)
            rr = np.tile(np.arange(n_b, dtype=np.int64), n_a)
        else:
            lr = rng.integers(0, n_a, share, dtype=np.int64)
            rr = rng.integers(0, n_b, share, dtype=np.int64)
        if within:  # within one agency: two different records, each pair once
            lr, rr = within_draws(lr, rr, enumerated=n_a * n_b <= share)
        yield lr, rr


def _one_to_one_weights(pairs, found, agencies, config, weights, independent):
    """The weights with, for pairs of two one-to-one agencies, the household dependence
    (``hub.linkage.household``) left out: there one-to-one already weighs a twin against
    the twin's own record, which a person's agency holds as well, and the dependence
    would only cost true pairs that look like twins (a first name's initial mistyped at
    the same address). Within an agency that may hold duplicates nothing does."""
    out, offset = weights.copy(), 0
    for (a, b), cand in zip(pairs, found, strict=True):
        if agencies[a].name not in config.dedup and agencies[b].name not in config.dedup:
            out[offset : offset + cand.count] = independent[offset : offset + cand.count]
        offset += cand.count
    return out


def assign_outcomes(agencies, pairs, found, weights, config) -> list[PairOutcome]:
    outcomes, offset = [], 0
    for (a, b), cand in zip(pairs, found, strict=True):
        w = weights[offset : offset + cand.count]
        offset += cand.count
        prob = probability(w)
        accepted = prob >= config.threshold
        linked = accepted.copy()
        if config.one_to_one and accepted.any():
            idx = np.flatnonzero(accepted)
            keep = select_links(
                cand.left_rows[idx], cand.right_rows[idx], w[idx],
                left_unique=agencies[a].name not in config.dedup,
                right_unique=agencies[b].name not in config.dedup,
            )
            linked[idx[~keep]] = False
        outcomes.append(
            PairOutcome(
                left=agencies[a].name,
                right=agencies[b].name,
                n_left=agencies[a].size,
                n_right=agencies[b].size,
                candidates=cand,
                weight=w,
                probability=prob,
                accepted=accepted,
                one_to_one=linked.copy(),
                linked=linked,
            )
        )
    return outcomes


def cluster_outcomes(agencies: list[AgencyTokens], pairs, outcomes: list[PairOutcome], config):
    offsets = np.cumsum([0] + [a.size for a in agencies])
    agency_of = np.repeat(np.arange(len(agencies)), [a.size for a in agencies])
    src, dst, w, owner = [], [], [], []
    for k, ((a, b), out) in enumerate(zip(pairs, outcomes, strict=True)):
        idx = np.flatnonzero(out.linked)
        src.append(out.candidates.left_rows[idx] + offsets[a])
        dst.append(out.candidates.right_rows[idx] + offsets[b])
        w.append(out.weight[idx])
        owner.append(np.stack([np.full(len(idx), k), idx]))
    links = (
        np.concatenate(src).astype(np.int64),
        np.concatenate(dst).astype(np.int64),
        np.concatenate(w),
    )
    if config.dedup:
        unique = np.array([a.name not in config.dedup for a in agencies])
        clustering = cluster_with_duplicates(
            agency_of, unique, *links, max_size=config.max_cluster_size
        )
    else:
        clustering = cluster_records(agency_of, *links)
    # Links refused by the one-record-per-agency rule (or the chaining guard) stop being links.
    refused = np.concatenate(owner, axis=1)[:, ~clustering.link_used]
    for k, idx in refused.T.tolist():
        outcomes[k].linked[idx] = False
    return clustering


def _repeat(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def clusters_table(agencies: list[AgencyTokens], cluster: np.ndarray) -> pa.Table:
    names = pa.concat_arrays([_repeat(a.name, a.size) for a in agencies])
    pids = pa.concat_arrays([a.pids.cast(pa.string()) for a in agencies])
    return pa.Table.from_arrays(
        [names, pids, pa.array(cluster, pa.int64())], schema=CLUSTERS_SCHEMA
    )


def links_table(agencies, outcomes: list[PairOutcome]) -> pa.Table:
    by_name = {a.name: a for a in agencies}
    parts = []
    for out in outcomes:
        idx = np.flatnonzero(out.linked)
        n = len(idx)
        left, right = by_name[out.left], by_name[out.right]
        parts.append(
            pa.Table.from_arrays(
                [
                    _repeat(out.left, n),
                    left.pids.cast(pa.string()).take(pa.array(out.candidates.left_rows[idx])),
                    _repeat(out.right, n),
                    right.pids.cast(pa.string()).take(pa.array(out.candidates.right_rows[idx])),
                    pa.array(out.weight[idx], pa.float64()),
                    pa.array(out.probability[idx], pa.float64()),
                ],
                schema=LINKS_SCHEMA,
            )
        )
    return pa.concat_tables(parts) if parts else LINKS_SCHEMA.empty_table()
