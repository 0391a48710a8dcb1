"""The pattern attack starts afresh when its seeding collapses, as an attacker would.

About one seeding in thirty gives the mining too few right seeds to grow from; the mining
then identifies a few dozen records instead of thousands, which the attacker sees without
any truth. These tests force such a seeding and check the attack recovers from it — and
does not spend attempts when the first one works.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from fedlink.attack import run as attack_run
from fedlink.attack.features import EncodedColumn, encoded_columns
from fedlink.attack.federation import build_federation
from fedlink.attack.public import PublicTable, Simulations, table_for_column
from fedlink.attack.scoring import score


@pytest.fixture(scope="module")
def first_names() -> tuple[EncodedColumn, PublicTable, list[str | None]]:
    federation = build_federation(2000, 0, "legacy", key_seed=31)
    (column,) = [c for c in encoded_columns(federation.table()) if c.name == "bf_first_name"]
    table = table_for_column(column.name)
    assert table is not None
    return column, table, federation.truth_all()["first_name"].tolist()


def _collapsed_first(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int]:
    """Make the first ``failures`` seedings wrong: every frequent encoding paired with the
    value ranked one below its own (what a collapsed graph matching looks like)."""
    real = attack_run.seed_by_graph_matching
    calls: list[int] = []

    def seeding(column: EncodedColumn, table: PublicTable, sim: Any) -> dict[int, int]:
        calls.append(1)
        seeds = real(column, table, sim)
        if len(calls) <= failures:
            return {enc: value + 1 for enc, value in seeds.items()}
        return seeds

    monkeypatch.setattr(attack_run, "seed_by_graph_matching", seeding)
    return calls


def _attack(column: EncodedColumn, table: PublicTable) -> tuple[dict[int, str], dict[str, Any]]:
    simulations = Simulations("legacy", attack_run.SIMULATION_KEYS, random.Random(5).randbytes)
    return attack_run.pattern_attack(column, table, simulations)


def test_pattern_attack_restarts_after_a_collapsed_seeding(monkeypatch, first_names):
    column, table, truth = first_names
    calls = _collapsed_first(monkeypatch, failures=1)
    guesses, info = _attack(column, table)
    assert len(calls) == 2
    assert info["attempt"] == 2
    first, second = info["records_identified_per_attempt"]
    assert first < attack_run.GOOD_SHARE * column.present <= second
    result = score(guesses, truth)
    assert result.recall >= 0.9
    assert result.precision >= 0.98


def test_pattern_attack_stops_at_the_first_attempt_that_works(monkeypatch, first_names):
    column, table, truth = first_names
    calls = _collapsed_first(monkeypatch, failures=0)
    guesses, info = _attack(column, table)
    assert len(calls) == 1
    assert info["attempt"] == 1
    assert len(info["records_identified_per_attempt"]) == 1
    assert score(guesses, truth).recall >= 0.9


def test_pattern_attack_keeps_its_best_attempt_when_all_collapse(monkeypatch, first_names):
    column, table, truth = first_names
    calls = _collapsed_first(monkeypatch, failures=attack_run.ATTEMPTS)
    guesses, info = _attack(column, table)
    assert len(calls) == attack_run.ATTEMPTS
    assert len(info["records_identified_per_attempt"]) == attack_run.ATTEMPTS
    # Whatever it keeps, a collapsed seeding recovers next to nothing.
    assert score(guesses, truth).recall < 0.2
