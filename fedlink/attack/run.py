"""Run every attack on one project and score it: what :func:`run_privacy` returns.

For each scheme: build the project (:mod:`fedlink.attack.federation`), pool every
agency's token table as the hub does, and on every ``bf_*``/``mh_*`` column run

- the prior-only reference and whole-encoding frequency alignment
  (:mod:`fedlink.attack.frequency`);
- graph-matching seeding (:mod:`fedlink.attack.graph`) + iterative q-gram pattern mining
  (:mod:`fedlink.attack.patterns`), the attacker having simulated the open encoder on the
  public values under keys of its own (:class:`fedlink.attack.public.Simulations`), started
  afresh under new own keys when a seeding collapses (:func:`pattern_attack`);

then per field (columns of one field combined by vote), the full name (first and last
right on the same record), and the shape leaks (:mod:`fedlink.attack.leaks`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from fedlink.attack import leaks
from fedlink.attack.features import (
    BigramIndex,
    EncodedColumn,
    IntArray,
    encoded_columns,
    simulated_features,
)
from fedlink.attack.federation import (
    SCHEMES,
    Federation,
    Random,
    build_federation,
    normalized_agencies,
    randbytes_from,
)
from fedlink.attack.frequency import frequency_alignment, prior_only, record_guesses
from fedlink.attack.graph import SEED_VALUES, Simulation, seed_by_graph_matching
from fedlink.attack.patterns import mine
from fedlink.attack.public import PublicTable, Simulations, column_field, table_for_column
from fedlink.attack.scoring import Score, combine, score, score_full_name

#: Own keys the attacker simulates the encoder under.
SIMULATION_KEYS = 4
#: Fresh starts the attacker allows itself on one column, and the share of the column's
#: records an attempt must identify to stop there. About one seeding in thirty collapses
#: (the mining then identifies a few dozen records, not thousands: visible without truth).
ATTEMPTS = 3
GOOD_SHARE = 0.5
#: The attacker's own reference population for the token-count rules (its own seed).
REFERENCE_PEOPLE = 2000
_REFERENCE_SEED = 7_919

ATTACKS: dict[str, str] = {
    "prior": "prior only (most frequent public value)",
    "frequency": "whole-encoding frequency alignment",
    "graph+patterns": "graph-matching seeds + q-gram pattern mining",
}

Step = Callable[[str], None]


def truth_column(column: str) -> str | None:
    """The truth column an encoded column is scored against."""
    field = column_field(column)
    if field in ("first_name", "first_name_as_last"):
        return "first_name"
    if field in ("last_name", "middle_name", "address"):
        return field
    return None


def pattern_attack(
    column: EncodedColumn, table: PublicTable, simulations: Simulations
) -> tuple[dict[int, str], dict[str, Any]]:
    """Graph-matching seeding + pattern mining on one column: guesses and diagnostics.

    ``simulations`` encodes ``table`` (the column's public table) under the attacker's own
    keys. A poor seeding shows itself to the attacker (the mining then identifies few of
    the column's records), so it starts afresh — new own keys, new seeds — up to
    :data:`ATTEMPTS` times and keeps the attempt that identifies the most records.
    """
    index = BigramIndex.of(table.values)
    grams = np.asarray(index.incidence.sum(axis=1), dtype=np.float64).ravel()
    # (records identified, value per distinct encoding, diagnostics); any attempt beats it.
    best: tuple[int, IntArray, dict[str, Any]] = (-1, np.full(column.distinct, -1), {})
    identified_per_attempt: list[int] = []
    for attempt in range(1, ATTEMPTS + 1):
        arrays = simulations.column(column.name, draw=attempt)
        sim = Simulation.of(simulated_features(column.kind, arrays), SEED_VALUES, grams)
        seeds = seed_by_graph_matching(column, table, sim)
        # The construction bounds what one bigram sets; allow for the simulation's noise.
        max_features = int(1.5 * sim.features_per_gram) + 2
        per_encoding, history = mine(
            column, index, seeds, sim.size_mean, sim.size_std, max_features=max_features
        )
        identified = int(column.counts[per_encoding >= 0].sum())
        identified_per_attempt.append(identified)
        if identified > best[0]:
            info = {"seeds": len(seeds), "identified_per_round": history, "attempt": attempt}
            best = (identified, per_encoding, info)
        if identified >= GOOD_SHARE * column.present:
            break
    _, per_encoding, info = best
    info["records_identified_per_attempt"] = identified_per_attempt
    return record_guesses(column, table, per_encoding), info


def _row(attack: str, target: str, result: Score) -> dict[str, Any]:
    return {"attack": attack, "target": target, **result.as_dict()}


def attack_federation(
    federation: Federation,
    reference: Federation,
    step: Step | None = None,
    *,
    randbytes: Random = os.urandom,
) -> dict[str, Any]:
    """Every attack on ``federation``'s pooled token table, scored against its truth;
    ``randbytes`` draws the attacker's own keys (seeded: a reproducible attack)."""
    report = step or (lambda _s: None)
    started = time.perf_counter()
    simulations = Simulations(federation.scheme, SIMULATION_KEYS, randbytes)
    table: pa.Table = federation.table()
    truth = federation.truth_all()
    rows: list[dict[str, Any]] = []
    by_field: dict[str, list[dict[int, str]]] = {}
    correlations: dict[str, float | None] = {}
    measured_over: dict[str, int] = {}
    diagnostics: dict[str, Any] = {}
    for column in encoded_columns(table):
        target = truth_column(column.name)
        public = table_for_column(column.name)
        if target is None or public is None:
            continue
        values = truth[target].tolist()
        correlations[column.name], measured_over[column.name] = leaks.size_correlation(
            column, values
        )
        report(f"{federation.scheme}: {column.name}")
        rows.append(_row("prior", column.name, score(prior_only(column, public), values)))
        aligned = frequency_alignment(column, public, agencies=len(federation.tables))
        rows.append(_row("frequency", column.name, score(aligned, values)))
        guesses, info = pattern_attack(column, public, simulations)
        diagnostics[column.name] = info
        rows.append(_row("graph+patterns", column.name, score(guesses, values)))
        by_field.setdefault(target, []).append(guesses)
    fields = {f: combine(g) for f, g in by_field.items()}
    for field, guesses in fields.items():
        rows.append(_row("graph+patterns", field, score(guesses, truth[field].tolist())))
    if "first_name" in fields and "last_name" in fields:
        full = score_full_name(
            fields["first_name"], fields["last_name"],
            truth["first_name"].tolist(), truth["last_name"].tolist(),
        )  # fmt: skip
        rows.append(_row("graph+patterns", "full_name", full))
    report(f"{federation.scheme}: shape leaks")
    token_leaks = leaks.token_count_leaks(table, truth, reference.table(), reference.truth_all())
    return {
        "records": table.num_rows,
        "rows": rows,
        "leaks": {
            "bit_count_vs_length_r": correlations,
            "bit_count_vs_length_n": measured_over,
            "token_counts": token_leaks,
            "null_share": leaks.missingness(table),
        },
        "diagnostics": diagnostics,
        "seconds": time.perf_counter() - started,
    }


def run_privacy(
    people: int,
    seed: int,
    schemes: Sequence[str] = SCHEMES,
    *,
    step: Step | None = None,
    key_seed: int | None = None,
) -> dict[str, Any]:
    """Play a curious hub against a ``people``-person project (synthetic state ``seed``)
    under each of ``schemes``; JSON-ready results. The project's keys, and the keys the
    attacker simulates the encoder under, are random, drawn from ``key_seed`` when given
    (a reproducible run: the tests).

    Raises ``ValueError`` for ``people < 1``, a negative seed or an unknown scheme.
    """
    if people < 1:
        raise ValueError(f"people must be at least 1, got {people}")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    unknown = [s for s in schemes if s not in SCHEMES]
    if unknown or not schemes:
        raise ValueError(f"unknown scheme {unknown[0] if unknown else '(none)'!r}: "
                         f"choose from {', '.join(SCHEMES)}")  # fmt: skip
    report = step or (lambda _s: None)
    report("normalise the synthetic state")
    agencies = normalized_agencies(people, seed)
    own_people = min(people, REFERENCE_PEOPLE)
    own = normalized_agencies(own_people, _REFERENCE_SEED + seed)
    results: dict[str, Any] = {}
    for scheme in schemes:
        report(f"{scheme}: encode under random project keys")
        federation = build_federation(people, seed, scheme, agencies=agencies, key_seed=key_seed)
        reference = build_federation(
            own_people, _REFERENCE_SEED + seed, scheme, agencies=own,
            key_seed=None if key_seed is None else key_seed + 1,
        )
        attacker = randbytes_from(None if key_seed is None else key_seed + 2)
        results[scheme] = attack_federation(federation, reference, report, randbytes=attacker)
    return {"people": people, "seed": seed, "attacks": ATTACKS, "schemes": results}
