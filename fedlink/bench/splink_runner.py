"""Splink 5 (clear text, DuckDB) in the benchmark, one agency pair at a time.

Configured as Splink's own FEBRL4 example (``docs/demos/examples/duckdb/febrl4``) does,
on the clear-text fields both sources of a pair hold:

- blocking for prediction: exact first + last name, exact date of birth, exact postcode
  (and exact SSN where both sides have one);
- comparisons: ``NameComparison`` (exact, Jaro-Winkler ≥ 0.92 / 0.88 / 0.7) on first and
  last name with term-frequency adjustments, ``DateOfBirthComparison``, Jaro-Winkler
  levels on the street address, exact city (term frequencies), Damerau-Levenshtein ≤ 1 / 2
  on the postcode (term frequencies) and on the SSN, exact sex;
- training: λ from deterministic rules (first + last + date of birth; SSN) at the
  example's assumed recall of 0.8, u by random sampling of 10⁷ pairs (the docs' advice),
  m by two EM sessions blocked on date of birth and on first + last name;
- links: ``predict(threshold_match_probability=0.5)``, Splink's pairwise predictions.

Deduplication (:func:`dedup`, FEBRL3 and FEBRL2) is the same configuration with Splink's
``link_type="dedupe_only"`` on the one file, scored twice over all true pairs: its pairwise
predictions, and the clusters Splink's ``cluster_pairwise_predictions_at_threshold``
(connected components at the same 0.5) makes of them, which is what a user of its
deduplication gets and how Fedlink (clusters) is scored.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from fedlink.bench.datasets import AccuracyData, pair_fields
from fedlink.bench.metrics import link_scores
from fedlink.bench.worker import stage

THRESHOLD = 0.5
U_MAX_PAIRS = 1e7
DETERMINISTIC_RECALL = 0.8
FIELDS = ("first_name", "last_name", "dob", "sex", "ssn", "postal_code", "street_address", "city")


def version() -> str | None:
    try:
        from importlib.metadata import version as _version

        return f"splink {_version('splink')}, duckdb {_version('duckdb')}"
    except Exception:
        return None


def _settings(fields: list[str], link_type: str = "link_only") -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons = [
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
    ]
    optional = {
        "sex": lambda: cl.ExactMatch("sex"),
        "ssn": lambda: cl.DamerauLevenshteinAtThresholds("ssn", [1, 2]),
        "street_address": lambda: cl.JaroWinklerAtThresholds("street_address", [0.9, 0.7]),
        "city": lambda: cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        "postal_code": lambda: cl.DamerauLevenshteinAtThresholds(
            "postal_code", [1, 2]
        ).configure(term_frequency_adjustments=True),
    }
    comparisons += [make() for name, make in optional.items() if name in fields]
    blocking = [block_on("first_name", "last_name"), block_on("dob")]
    blocking += [block_on(f) for f in ("postal_code", "ssn") if f in fields]
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="row",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _train_m(linker: Any) -> None:
    """Splink's EM sessions for ``m``, blocked on date of birth, then on names. A session
    whose EM drives an ``m`` below what float64 holds (Splink raises ValueError: seen on
    the synthetic higher-education persons, 43 true pairs among 2,880) is skipped and the
    other session's estimates stand — Splink's best model, not a failed step."""
    from splink import block_on

    for rule in (block_on("dob"), block_on("first_name", "last_name")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except ValueError as error:
            if "below the minimum allowed value" not in str(error):
                raise


def link_pair(left: pd.DataFrame, right: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """Splink's links between two clean frames: ``row_l``, ``row_r`` (row positions)."""
    from splink import DuckDBAPI, Linker, block_on

    db_api = DuckDBAPI()
    inputs = [
        db_api.register(frame[fields].assign(row=np.arange(len(frame))), dataset_display_name=n)
        for n, frame in (("src_a", left), ("src_b", right))
    ]
    linker = Linker(inputs, _settings(fields), log_level=logging.WARNING)
    deterministic = [block_on("first_name", "last_name", "dob")]
    if "ssn" in fields:
        deterministic.append(block_on("ssn"))
    linker.training.estimate_probability_two_random_records_match(
        deterministic, recall=DETERMINISTIC_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=1)
    _train_m(linker)
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    frame = predictions.as_pandas_dataframe()
    left_first = frame["source_dataset_l"] == "src_a"
    rows_l = np.where(left_first, frame["row_l"], frame["row_r"])
    rows_r = np.where(left_first, frame["row_r"], frame["row_l"])
    return pd.DataFrame({"row_l": rows_l, "row_r": rows_r})


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


def dedup_frame(frame: pd.DataFrame, fields: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Splink's deduplication of one clean frame: its links (``row_l``, ``row_r``) and the
    cluster of every row (connected components of the links at the threshold)."""
    from splink import DuckDBAPI, Linker, block_on

    db_api = DuckDBAPI()
    table = db_api.register(frame[fields].assign(row=np.arange(len(frame))),
                            dataset_display_name="src")
    linker = Linker(table, _settings(fields, "dedupe_only"), log_level=logging.WARNING)
    deterministic = [block_on("first_name", "last_name", "dob")]
    if "ssn" in fields:
        deterministic.append(block_on("ssn"))
    linker.training.estimate_probability_two_random_records_match(
        deterministic, recall=DETERMINISTIC_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=1)
    _train_m(linker)
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    links = predictions.as_pandas_dataframe()[["row_l", "row_r"]]
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=THRESHOLD
    ).as_pandas_dataframe()
    cluster = np.arange(len(frame), dtype=np.int64)
    rows = clusters["row"].to_numpy(dtype=np.int64)
    cluster[rows] = pd.factorize(clusters["cluster_id"])[0] + len(frame)
    return links, cluster


def dedup(spec: dict[str, Any]) -> dict[str, Any]:
    """Deduplicate the data set's one source; scores of the links and of the clusters."""
    from fedlink.bench.metrics import within_link_scores
    from hub.linkage.evaluate import pairwise_scores

    data = AccuracyData.load(spec["root"])
    (source,) = data.sources
    frame = data.clean(source)
    stage(f"deduplicate {source}")
    started = time.perf_counter()
    links, cluster = dedup_frame(frame, pair_fields(frame, frame, FIELDS))
    seconds = time.perf_counter() - started
    linked = within_link_scores(source, frame["truth_id"], links["row_l"], links["row_r"])
    scored = pd.DataFrame({"source": source, "cluster_id": cluster,
                           "truth_id": frame["truth_id"]})
    clustered = pairwise_scores(scored)[-1]
    return {"links": linked.as_dict(), "clusters": clustered.as_dict(),
            "seconds": {"link": seconds}, "version": version()}
