"""recordlinkage's ECM classifier (clear text) in the benchmark, one agency pair at a time.

Configured as recordlinkage's documentation does for FEBRL (``ref-classifiers``,
"Unsupervised learning with the ECM algorithm"), on the clear-text fields both sources
hold:

- indexing: the union of ``Block`` on date of birth, on first + last name and on postcode
  (and on SSN where both sides have one) — the same candidate keys as Splink's;
- comparisons: binary, as ECM needs — Jaro-Winkler ≥ 0.85 on first name, last name and
  street address; exact date of birth, postcode, city, sex and SSN;
- ``ECMClassifier()`` with its defaults (``init="jaro"``), links where the posterior
  match probability is ≥ 0.5 (``predict``).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from fedlink.bench.datasets import AccuracyData, pair_fields
from fedlink.bench.metrics import link_scores
from fedlink.bench.worker import stage

FIELDS = ("first_name", "last_name", "dob", "sex", "ssn", "postal_code", "street_address", "city")
_FUZZY = ("first_name", "last_name", "street_address")
_BLOCKS = (("dob",), ("first_name", "last_name"), ("postal_code",), ("ssn",))
JARO_WINKLER_THRESHOLD = 0.85


def version() -> str | None:
    try:
        from importlib.metadata import version as _version

        return f"recordlinkage {_version('recordlinkage')}"
    except Exception:
        return None


def link_pair(left: pd.DataFrame, right: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """ECM's links between two clean frames: ``row_l``, ``row_r`` (row positions)."""
    import recordlinkage as rl

    left = left[fields].reset_index(drop=True)
    right = right[fields].reset_index(drop=True)
    indexer = rl.Index()
    for keys in _BLOCKS:
        if all(k in fields for k in keys):
            indexer.block(list(keys))
    candidates = indexer.index(left, right)
    compare = rl.Compare()
    for field in fields:
        if field in _FUZZY:
            compare.string(
                field, field, method="jarowinkler", threshold=JARO_WINKLER_THRESHOLD, label=field
            )
        else:
            compare.exact(field, field, label=field)
    features = compare.compute(candidates, left, right)
    with warnings.catch_warnings():
        # ECM's internals divide by zero for a feature that never disagrees (log of 0
        # probabilities); numpy reports it as a RuntimeWarning and ECM handles the inf.
        warnings.simplefilter("ignore", RuntimeWarning)
        matches = rl.ECMClassifier().fit_predict(features)
    rows_l = matches.get_level_values(0).to_numpy(dtype=np.int64)
    rows_r = matches.get_level_values(1).to_numpy(dtype=np.int64)
    return pd.DataFrame({"row_l": rows_l, "row_r": rows_r, "candidates": len(candidates)})


def accuracy(spec: dict[str, Any]) -> dict[str, Any]:
    """Every agency pair of the data set, linked and scored."""
    data = AccuracyData.load(spec["root"])
    pairs, seconds = [], 0.0
    for a, b in data.pairs:
        stage(f"{a}–{b}")
        left, right = data.clean(a), data.clean(b)
        started = time.perf_counter()
        links = link_pair(left, right, pair_fields(left, right, FIELDS))
        seconds += time.perf_counter() - started
        score = link_scores(
            (a, b), left["truth_id"], right["truth_id"], links["row_l"], links["row_r"]
        )
        pairs.append(score.as_dict())
    return {"pairs": pairs, "seconds": {"link": seconds}, "version": version()}
