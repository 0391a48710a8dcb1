"""Scores of a peer's pairwise links, as :class:`hub.linkage.evaluate.PairScore`.

Fedlink is scored on its clusters by :func:`hub.linkage.evaluate.pairwise_scores`. The
peers run one agency pair at a time and output record pairs they declare links (Splink's
``predict`` at the threshold, recordlinkage's ECM matches, anonlink's solver pairs); those
are scored here with the same definitions — predicted pairs, true pairs (same truth id;
a missing truth id has no partner), true positives — and the same ``PairScore`` class, so
precision, recall and F1 are computed by one piece of code for every system.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.linkage.evaluate import PairScore


def _truth(values: pd.Series) -> pd.Series:
    return values.astype("string").replace("", pd.NA).reset_index(drop=True)


def true_pair_count(left_truth: pd.Series, right_truth: pd.Series) -> int:
    """Σ over truth ids of (records on the left) × (records on the right)."""
    a = _truth(left_truth).dropna().value_counts()
    b = _truth(right_truth).dropna().value_counts()
    joined = pd.concat([a, b], axis=1, join="inner")
    return int((joined.iloc[:, 0] * joined.iloc[:, 1]).sum())


def link_scores(
    names: tuple[str, str],
    left_truth: pd.Series,
    right_truth: pd.Series,
    left_rows: np.ndarray,
    right_rows: np.ndarray,
) -> PairScore:
    """Score links given as row positions into the two sources (duplicates counted once)."""
    lt, rt = _truth(left_truth), _truth(right_truth)
    links = pd.DataFrame(
        {"l": np.asarray(left_rows, dtype=np.int64), "r": np.asarray(right_rows, dtype=np.int64)}
    ).drop_duplicates()
    a = lt.to_numpy(dtype=object)[links["l"].to_numpy()]
    b = rt.to_numpy(dtype=object)[links["r"].to_numpy()]
    known = pd.notna(a) & pd.notna(b)
    hits = int((a[known] == b[known]).sum())
    return PairScore(names[0], names[1], true_pair_count(lt, rt), len(links), hits)



def within_link_scores(name: str, truth: pd.Series, rows_l: np.ndarray,
                       rows_r: np.ndarray) -> PairScore:
    """Score links between records of one source (deduplication), each unordered pair
    once; true pairs are the pairs of two records sharing a truth id."""
    t = _truth(truth)
    a = np.asarray(rows_l, dtype=np.int64)
    b = np.asarray(rows_r, dtype=np.int64)
    links = pd.DataFrame({"l": np.minimum(a, b), "r": np.maximum(a, b)})
    links = links[links["l"] != links["r"]].drop_duplicates()
    left = t.to_numpy(dtype=object)[links["l"].to_numpy()]
    right = t.to_numpy(dtype=object)[links["r"].to_numpy()]
    known = pd.notna(left) & pd.notna(right)
    hits = int((left[known] == right[known]).sum())
    counts = t.dropna().value_counts()
    return PairScore(name, name, int((counts * (counts - 1) // 2).sum()), len(links), hits)
