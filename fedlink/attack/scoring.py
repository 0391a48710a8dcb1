"""Scoring guesses against the truth.

Per field: *recall* = records whose value is recovered ÷ records carrying the field;
*precision* = right guesses ÷ guesses. A guess for a record that does not carry the field
counts as a wrong guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

Guesses = Mapping[int, str]


@dataclass(frozen=True)
class Score:
    """How one attack did on one field."""

    carrying: int
    guesses: int
    right: int

    @property
    def recall(self) -> float:
        """Right guesses ÷ records carrying the field (0.0 when none does)."""
        return self.right / self.carrying if self.carrying else 0.0

    @property
    def precision(self) -> float:
        """Right guesses ÷ guesses (0.0 without guesses)."""
        return self.right / self.guesses if self.guesses else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready, with recall and precision."""
        return asdict(self) | {"recall": self.recall, "precision": self.precision}


def score(guesses: Guesses, truth: Sequence[str | None]) -> Score:
    """Score ``{record index: guessed value}`` against ``truth[record]`` (None = the record
    does not carry the field)."""
    carrying = sum(v is not None for v in truth)
    right = 0
    for record, value in guesses.items():
        if not 0 <= record < len(truth):
            raise IndexError(f"guess for record {record}, outside the {len(truth)} records")
        if truth[record] is not None and truth[record] == value:
            right += 1
    return Score(carrying, len(guesses), right)


def score_full_name(
    first: Guesses,
    last: Guesses,
    first_truth: Sequence[str | None],
    last_truth: Sequence[str | None],
) -> Score:
    """First and last name both right on the same record; records carrying both."""
    if len(first_truth) != len(last_truth):
        raise ValueError("first and last truth must have the same length")
    carrying = sum(
        f is not None and s is not None for f, s in zip(first_truth, last_truth, strict=True)
    )
    both = first.keys() & last.keys()
    right = sum(
        first_truth[r] is not None and first[r] == first_truth[r] and last[r] == last_truth[r]
        for r in both
    )
    return Score(carrying, len(both), right)


def combine(guesses: Sequence[Guesses]) -> dict[int, str]:
    """One guess per record from several columns' guesses for one field: the value most
    columns agree on (ties: the earliest column's)."""
    out: dict[int, str] = {}
    records = set().union(*(g.keys() for g in guesses)) if guesses else set()
    for record in records:
        votes: dict[str, int] = {}
        for g in guesses:
            if record in g:
                votes[g[record]] = votes.get(g[record], 0) + 1
        out[record] = max(votes, key=lambda v: votes[v])  # dicts keep first-seen order
    return out
