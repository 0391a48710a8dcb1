"""Settings of one linkage run and the engine's one error type.

:class:`LinkageConfig` holds every tunable of :func:`hub.linkage.link`; the defaults are the
ones measured in ``docs/linkage.md``. :class:`LinkageError` (a :class:`hub.errors.HubError`)
is raised for input the engine cannot link (no ``pid`` column, duplicate pids, fewer than two
agencies); its message is one sentence that names no identity value.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from hub.errors import HubError

#: Column prefixes of ``protocol.encoding.token_batch_schema()``.
MATCH_KEY_PREFIX: Final = "mk_"
BLOCKING_KEY_PREFIX: Final = "bk_"
BLOOM_PREFIX: Final = "bf_"
PID_COLUMN: Final = "pid"
#: Names of the blocking keys the hub derives from Bloom filters (never sent by nodes).
BLOOM_KEY_PREFIX: Final = "bloom:"

#: ``progress(stage, completed, total)``: called as the engine advances, so a CLI can draw
#: bars and a worker can record progress. ``total`` is the number of units of ``stage``.
ProgressCallback = Callable[[str, int, int], None]


class LinkageError(HubError):
    """Token tables the engine cannot link."""

    code = "linkage_input_invalid"
    status = 422


class LinkageClusterError(LinkageError):
    """The Dask scheduler a partitioned run was pointed at could not be reached or lost
    the run (``docs/scaling.md``)."""

    code = "linkage_cluster_unavailable"
    status = 503


@dataclass(frozen=True, slots=True)
class LinkageConfig:
    """Every tunable of one linkage run.

    ``max_block``
        A token shared by more records than this on either side of an agency pair produces
        no candidate pairs (the block is reported as capped). Real people share a key with
        a handful of others; hundreds sharing one means a placeholder or a low-entropy key.
    ``bloom_max_block``
        The block cap of the hub-derived Bloom keys (``bloom_blocking``). They are a safety
        net for true pairs no node key reaches (a wrong or missing birth date); a block of
        one exact first and last name held by dozens of records a side is a common name,
        whose pairs are namesakes almost all, and at a million records such blocks made
        three quarters of all candidates while reaching 0.1 % of the true pairs only
        through them (``docs/linkage.md``). Capped blocks are reported like any other.
    ``max_candidates``
        Pair budget per agency pair. If the uncapped blocks would still produce more raw
        pairs, the largest blocks are skipped (and reported) until the budget holds, so no
        input can make the engine explode.
    ``bloom_blocking``
        Blocking keys the hub derives from Bloom filters: each entry joins records whose
        filters of the ``+``-separated columns are identical. Off by default: the filters
        are salted (``protocol.salted_bloom``), so identical filters mean the same value
        *and* the same birth date or household, pairs the node keys already reach (no
        candidate added on FEBRL4 or the synthetic federation, docs/privacy.md).
    ``dice_levels``
        Descending Dice thresholds that cut each Bloom-field similarity into levels.
    ``threshold``
        Minimum posterior match probability for a link (``0.5`` = the Bayes decision).
    ``method``
        ``"em"``: the multi-level Fellegi–Sunter EM of :mod:`hub.linkage.em` (default);
        ``"ecm"``: recordlinkage's ECM classifier, kept for comparison.
    ``features``
        ``"fields"``: one feature per identity field, derived from the rules' agreements
        and the Bloom similarities (:mod:`hub.linkage.features`, default); ``"rules"``: one
        feature per key column and Bloom field, as compared.
    ``compare_blocking_keys``
        With ``features="rules"``, also use blocking keys as features.
    ``u_source``
        ``"random"`` (default): EM fits the model of *all* record pairs — the candidates
        exactly, the other pairs through ``u_sample`` uniformly drawn non-candidate pairs
        (weighted) — so ``u`` is learnt where the non-matches are and the prior is the
        match share among all pairs; ``"candidates"``: EM on the candidate pairs alone.
        ``method="ecm"`` always fits on the candidates.
    ``seed``
        Seed of the random pair sample, so a run is reproducible.
    ``one_to_one``
        Keep at most one link per record and agency pair (greedy by weight).
    ``chunk_pairs``
        Pairs compared per chunk; bounds the memory of the Bloom-filter gathers.
    ``dedup``
        Names of the agencies whose ids may hold duplicates (two records of one person).
        Their records are also paired *within* the agency and a cluster may hold several
        of them (:mod:`hub.linkage.dedup`, :mod:`hub.linkage.cluster`); every other agency
        keeps one record per person. A single agency may be linked alone when it is listed.
    ``max_cluster_size``
        With ``dedup``: a connected component of links larger than this is split by the
        strongest links first so that no cluster exceeds it (the guard against chaining).
    """

    max_block: int = 500
    bloom_max_block: int = 20
    max_candidates: int = 100_000_000
    bloom_blocking: tuple[str, ...] = ()
    dice_levels: tuple[float, ...] = (0.95, 0.85, 0.7, 0.5)
    threshold: float = 0.5
    method: Literal["em", "ecm"] = "em"
    features: Literal["fields", "rules"] = "fields"
    compare_blocking_keys: bool = True
    u_source: Literal["random", "candidates"] = "random"
    u_sample: int = 500_000
    seed: int = 0
    one_to_one: bool = True
    em_max_iter: int = 500
    em_tol: float = 1e-7
    chunk_pairs: int = 1_000_000
    dedup: tuple[str, ...] = ()
    max_cluster_size: int = 12

    def block_caps(self, keys: list[str]) -> dict[str, int]:
        """The block cap of each key column (``bloom_max_block`` for hub-derived keys)."""
        return {
            k: self.bloom_max_block if k.startswith(BLOOM_KEY_PREFIX) else self.max_block
            for k in keys
        }

    def __post_init__(self) -> None:
        if self.max_block < 1 or self.bloom_max_block < 1:
            raise LinkageError("max_block and bloom_max_block must be at least 1")
        if self.max_candidates < 1:
            raise LinkageError("max_candidates must be at least 1")
        levels = self.dice_levels
        if not levels or any(not 0.0 < t <= 1.0 for t in levels):
            raise LinkageError("dice_levels must be thresholds in (0, 1]")
        if any(a <= b for a, b in itertools.pairwise(levels)):
            raise LinkageError("dice_levels must be strictly descending")
        if not 0.0 < self.threshold < 1.0:
            raise LinkageError("threshold must be a probability strictly between 0 and 1")
        if self.method not in ("em", "ecm"):
            raise LinkageError("method must be 'em' or 'ecm'")
        if self.features not in ("fields", "rules"):
            raise LinkageError("features must be 'fields' or 'rules'")
        if self.u_source not in ("random", "candidates"):
            raise LinkageError("u_source must be 'random' or 'candidates'")
        if self.u_sample < 1:
            raise LinkageError("u_sample must be at least 1")
        if self.chunk_pairs < 1 or self.em_max_iter < 1 or self.em_tol <= 0:
            raise LinkageError("chunk_pairs, em_max_iter and em_tol must be positive")
        if self.max_cluster_size < 2:
            raise LinkageError("max_cluster_size must be at least 2")
