"""Counts about the agency's persons and periods in the node store, for the steward's
profile and the data dictionary: persons, rows per person (min / median / max), periods
by kind (rows, first, last) and how many persons hold more than one identity version.

Only counts and periods leave this module — never a person id or an identity value. A
record without a person id is a person of its own. An *identity version* is one distinct
combination of the normalised first name, last name, birth date, street address and ZIP
code: a person seen under a maiden and a married name, or at two addresses, holds two.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from agency_node.ingest.periods import PERIOD_KINDS, period_sort_key

_VERSION_FIELDS = ("first_name", "last_name", "dob", "street_address", "postal_code")


@dataclass
class _Person:
    rows: int = 0
    version: int = 0  # hash of the first identity version seen
    several: bool = False


@dataclass
class PersonFacts:
    """Fed one record at a time (:meth:`add`); :meth:`summary` gives the counts."""

    persons: dict[str, _Person] = field(default_factory=dict)
    rows: int = 0
    without_person_id: int = 0
    period_rows: Counter[str] = field(default_factory=Counter)
    period_span: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, *, record_id: str, person_id: str | None, period: str | None,
            period_kind: str | None, identity: dict[str, Any]) -> None:
        self.rows += 1
        if person_id is None:
            self.without_person_id += 1
        # A record without a person id is its own person; the prefix keeps its key apart
        # from every person id.
        key = person_id if person_id is not None else "\0" + record_id
        version = hash(tuple(identity.get(f) for f in _VERSION_FIELDS))
        person = self.persons.get(key)
        if person is None:
            self.persons[key] = _Person(rows=1, version=version)
        else:
            person.rows += 1
            person.several = person.several or person.version != version
        if period is not None and period_kind is not None:
            self.period_rows[period_kind] += 1
            first, last = self.period_span.get(period_kind, (period, period))
            self.period_span[period_kind] = (min(first, period, key=period_sort_key),
                                             max(last, period, key=period_sort_key))

    def summary(self, *, min_cell: int = 0) -> dict[str, Any]:
        """The counts; a count of persons or rows below ``min_cell`` is None (the data
        dictionary's small-cell rule; the steward's profile passes 0)."""
        per_person = [p.rows for p in self.persons.values()]
        several = sum(1 for p in self.persons.values() if p.several)
        return {
            "persons": len(self.persons),
            "rows": self.rows,
            "rows_without_person_id": self.without_person_id,
            "rows_per_person": {
                "min": min(per_person, default=0),
                "median": statistics.median(per_person) if per_person else 0,
                "max": max(per_person, default=0),
            },
            "persons_with_several_identity_versions": several if several >= min_cell else None,
            "periods": [
                {"kind": kind, "first": self.period_span[kind][0],
                 "last": self.period_span[kind][1],
                 "rows": self.period_rows[kind] if self.period_rows[kind] >= min_cell else None}
                for kind in PERIOD_KINDS if kind in self.period_rows
            ],
            "rows_without_period": self.rows - sum(self.period_rows.values()),
        }
