"""Pairwise precision, recall and F1 of a clustering against a truth column.

For tests, the demo and the benchmark, where synthetic or public data carry the true
person id. For each pair of sources (agencies) A, B:

- predicted pairs = pairs (a, b) of records put in the same cluster;
- true pairs = pairs (a, b) with the same truth id;
- precision = |predicted ∩ true| / |predicted|, recall = |predicted ∩ true| / |true|.

Pairs of two records of *one* source (A, A) are scored the same way when there are any,
true or predicted (a source holding duplicates, ``LinkageConfig.dedup``), so the ``"*"``
row counts all true pairs, within and across sources.

Counts come from group sizes (Σ n_A(g)·n_B(g)), so nothing is enumerated pair by pair. A
record with no truth id (null or empty) has no true partner.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from hub.linkage.candidates import candidate_pairs, sorted_unique
from hub.linkage.config import LinkageConfig
from hub.linkage.engine import add_bloom_keys
from hub.linkage.tokens import prepare


@dataclass(frozen=True, slots=True)
class PairScore:
    """Scores of one source pair (or of all pairs together, ``left == right == "*"``)."""

    left: str
    right: str
    true_pairs: int
    predicted_pairs: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = asdict(self)
        out.update(precision=self.precision, recall=self.recall, f1=self.f1)
        return out


@dataclass(slots=True)
class _SourceCounts:
    """One source's group sizes, on integer codes: records per truth id and per cluster
    (bincounts over all codes), and per (cluster, truth) cell (sorted distinct cells)."""

    truth: np.ndarray
    cluster: np.ndarray
    cells: np.ndarray
    cell_sizes: np.ndarray


def _source_counts(cluster: np.ndarray, truth: np.ndarray, n_clusters: int,
                   n_truths: int) -> _SourceCounts:
    known = truth >= 0
    cells, sizes = np.unique(cluster[known] * max(n_truths, 1) + truth[known],
                             return_counts=True)
    return _SourceCounts(np.bincount(truth[known], minlength=n_truths),
                         np.bincount(cluster, minlength=n_clusters), cells, sizes)


def _cross_cells(a: _SourceCounts, b: _SourceCounts) -> int:
    """Σ over the (cluster, truth) cells both sources have: a's size · b's size."""
    _, ia, ib = np.intersect1d(a.cells, b.cells, assume_unique=True, return_indices=True)
    return int((a.cell_sizes[ia] * b.cell_sizes[ib]).sum())


def _within(sizes: np.ndarray) -> int:
    """Σ_g n_g·(n_g − 1)/2: unordered pairs of two records sharing a group."""
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(
    frame: pd.DataFrame,
    *,
    source: str = "source",
    cluster: str = "cluster_id",
    truth: str = "truth_id",
) -> list[PairScore]:
    """Scores per source pair (sorted by name), then one ``"*"`` row summing all pairs.
    A source's pairs with itself come after the source pairs, one row per source that has
    true or predicted pairs inside it.

    ``frame`` has one row per record with its source, predicted cluster and truth id.
    Every column is turned into integer codes first, so twenty million records take
    seconds, not the minutes of grouping by strings.
    """
    truth_values = frame[truth].astype("string").replace("", pd.NA)
    truth_codes, truth_ids = pd.factorize(truth_values)  # missing: -1
    cluster_codes, cluster_ids = pd.factorize(frame[cluster])
    source_codes, source_names = pd.factorize(frame[source].astype(str))
    counts = {}
    for k, name in enumerate(source_names):
        mine = source_codes == k
        counts[str(name)] = _source_counts(cluster_codes[mine], truth_codes[mine],
                                           len(cluster_ids), len(truth_ids))
    sources = sorted(counts)
    scores = []
    for a, b in itertools.combinations(sources, 2):
        ca, cb = counts[a], counts[b]
        scores.append(PairScore(a, b, int((ca.truth * cb.truth).sum()),
                                int((ca.cluster * cb.cluster).sum()), _cross_cells(ca, cb)))
    for name in sources:
        c = counts[name]
        inside = PairScore(name, name, _within(c.truth), _within(c.cluster),
                           _within(c.cell_sizes))
        if inside.true_pairs or inside.predicted_pairs:
            scores.append(inside)
    total = PairScore(
        "*",
        "*",
        sum(s.true_pairs for s in scores),
        sum(s.predicted_pairs for s in scores),
        sum(s.true_positives for s in scores),
    )
    return [*scores, total]


def format_scores(scores: list[PairScore]) -> str:
    """A plain-text table of scores, one line per pair."""
    lines = [f"{'pair':<28} {'true':>9} {'pred':>9} {'tp':>9} {'P':>7} {'R':>7} {'F1':>7}"]
    for s in scores:
        name = "all pairs" if s.left == "*" else (
            f"within {s.left}" if s.left == s.right else f"{s.left}–{s.right}"
        )
        lines.append(
            f"{name:<28} {s.true_pairs:>9} {s.predicted_pairs:>9} {s.true_positives:>9} "
            f"{s.precision:>7.4f} {s.recall:>7.4f} {s.f1:>7.4f}"
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Reach:
    """How many true pairs of one source pair can become candidates at all.

    ``by_node_keys``: pairs sharing a token of a node key (``mk_*``/``bk_*``) outside a
    capped block; ``by_all_keys``: also through the hub-derived Bloom keys. A pair that is
    not reachable can never be linked, whatever the model.
    """

    left: str
    right: str
    true_pairs: int
    by_node_keys: int
    by_all_keys: int

    @property
    def node_share(self) -> float:
        return self.by_node_keys / self.true_pairs if self.true_pairs else 1.0

    @property
    def share(self) -> float:
        return self.by_all_keys / self.true_pairs if self.true_pairs else 1.0


def _true_codes(truth_a: pd.Series, truth_b: pd.Series, n_b: int) -> np.ndarray:
    """Codes ``row_a * n_b + row_b`` of the pairs with the same (non-empty) truth id."""
    a = pd.DataFrame({"t": truth_a.astype("string").to_numpy(), "ra": np.arange(len(truth_a))})
    b = pd.DataFrame({"t": truth_b.astype("string").to_numpy(), "rb": np.arange(len(truth_b))})
    a, b = a[a["t"].notna() & (a["t"] != "")], b[b["t"].notna() & (b["t"] != "")]
    both = a.merge(b, on="t")
    return sorted_unique(both["ra"].to_numpy(np.int64) * n_b + both["rb"].to_numpy(np.int64))


def reachable_pairs(
    tables: Mapping[str, pa.Table],
    truth: Mapping[str, Sequence[object]],
    config: LinkageConfig | None = None,
) -> list[Reach]:
    """The share of true pairs that share a key, per source pair (sorted by name).

    ``truth[agency]`` holds the truth id of each row of ``tables[agency]``, in order. Uses
    the engine's own candidate generation (block cap and pair budget of ``config``).
    """
    config = config or LinkageConfig()
    agencies, keys, blooms = prepare(tables)
    node_keys = list(keys)
    all_keys = node_keys + add_bloom_keys(agencies, blooms, config)
    out = []
    for a, b in itertools.combinations(agencies, 2):
        true = _true_codes(pd.Series(truth[a.name]), pd.Series(truth[b.name]), b.size)
        found = []
        for key_set in (node_keys, all_keys):
            cand = candidate_pairs(
                a,
                b,
                key_set,
                max_block=config.max_block,
                max_candidates=config.max_candidates,
                block_caps=config.block_caps(key_set),
            )
            codes = cand.left_rows * b.size + cand.right_rows
            found.append(int(np.isin(true, codes, assume_unique=True).sum()))
        out.append(Reach(a.name, b.name, len(true), found[0], found[1]))
    return out
