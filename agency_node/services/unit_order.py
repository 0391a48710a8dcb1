"""The order of a match stream's units: pid order, a permutation of its own per project.

Pids are per-project keyed pseudonyms (:mod:`protocol.keys`), so two projects' pids cannot
be joined — but a stream's *order* could join them: in person-id order, then record order,
the same in every project, a hub that received two projects' streams over the same years
and cohort lined the two projects' pids up by position (by sequence alignment where the
sets differ), and record order told it the agency's insertion order. Sorted by pid, each
project's stream is a permutation keyed by that project's pseudonyms, unrelated to any
other project's and to the store's.

One pass over the store computes every unit's pid (16 bytes) and a unit key — the primary
key of a record without a person id, or of an agency person's first row in the requested
years — into NumPy arrays, never a Python object per unit (about 25 bytes a unit while
sorting, 9 bytes after: ten million units fit in a few hundred MB); then the units are
sorted by pid and the stream walks that order a page at a time
(:func:`agency_node.services.match_units.unit_pages`). Units that a cohort leaves out are
dropped when their page is read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from agency_node.store.records import count_units, iter_person_keys, iter_record_keys

Pseudonyms = Callable[[list[str]], list[str]]

#: Units read per query of the ordering pass (two integers and a short string each).
SCAN_PAGE: Final = 50_000


class UnitPageKeys(NamedTuple):
    """One page of the order: the keys of its agency persons and of its records."""

    persons: list[int]
    records: list[int]


class UnitOrder:
    """Every unit of one match stream, sorted by pid: ``keys[i]`` is the i-th unit's key,
    ``persons[i]`` whether it is an agency person (else a record)."""

    def __init__(self, keys: npt.NDArray[np.int64], persons: npt.NDArray[np.bool_]) -> None:
        self.keys = keys
        self.persons = persons

    def __len__(self) -> int:
        return len(self.keys)

    def pages(self, page_size: int) -> Iterator[UnitPageKeys]:
        """The order cut into pages of ``page_size`` units (the last one shorter)."""
        for start in range(0, len(self.keys), page_size):
            keys = self.keys[start:start + page_size]
            persons = self.persons[start:start + page_size]
            yield UnitPageKeys(keys[persons].tolist(), keys[~persons].tolist())


class _Collected:
    """The ordering pass's arrays, filled a store page at a time. Sized from a count of
    the units up front: no parts to concatenate, so no second copy at the end."""

    def __init__(self, capacity: int) -> None:
        self.size = 0
        self.hi = np.empty(capacity, np.uint64)
        self.lo = np.empty(capacity, np.uint64)
        self.keys = np.empty(capacity, np.int64)
        self.persons = np.empty(capacity, np.bool_)

    def add(self, pids: list[str], keys: list[int], *, person: bool) -> None:
        start, end = self.size, self.size + len(keys)
        if end > len(self.keys):  # units added since the count: grow (rare)
            grown = max(end, len(self.keys) + len(self.keys) // 8)
            self.hi = np.resize(self.hi, grown)
            self.lo = np.resize(self.lo, grown)
            self.keys = np.resize(self.keys, grown)
            self.persons = np.resize(self.persons, grown)
        # A pid is 32 hex digits: its 16 bytes as two big-endian 64-bit halves, so the
        # halves' numeric order is the pid's (and the hex text's) order.
        halves = np.frombuffer(bytes.fromhex("".join(pids)), dtype=">u8").reshape(-1, 2)
        self.hi[start:end] = halves[:, 0]
        self.lo[start:end] = halves[:, 1]
        self.keys[start:end] = keys
        self.persons[start:end] = person
        self.size = end

    def sorted(self) -> UnitOrder:
        n = self.size
        hi, lo = self.hi[:n], self.lo[:n]
        order = np.argsort(hi, kind="stable")
        # The first half decides unless two pids share it (about n²/2⁶⁵: practically
        # never); the second half then orders each such run, so the order is exactly the
        # pids'. Sorting ``hi`` in place gives hi[order] without a second copy.
        hi.sort()
        ties = np.flatnonzero(hi[1:] == hi[:-1])
        for run in np.split(ties, np.flatnonzero(np.diff(ties) != 1) + 1) if ties.size else []:
            span = order[run[0]:run[-1] + 2]
            span[:] = span[np.argsort(lo[span], kind="stable")]
        del hi, lo
        self.hi = self.lo = np.empty(0, np.uint64)
        return UnitOrder(self.keys[:n][order], self.persons[:n][order])


def pid_order(
    session: Session, *, persons: bool, years: Collection[int] | None,
    record_pids: Pseudonyms, person_pids: Pseudonyms,
) -> UnitOrder:
    """Every unit in ``years`` (agency persons, when ``persons``, then records without a
    person id — every record when not), sorted by its pid in this project."""
    collected = _Collected(count_units(session, persons=persons, years=years))
    if persons:
        for page in iter_person_keys(session, years=years, page_size=SCAN_PAGE):
            collected.add(person_pids([person for person, _ in page]),
                          [pk for _, pk in page], person=True)
    for records in iter_record_keys(session, years=years, page_size=SCAN_PAGE,
                                    without_person=persons):
        collected.add(record_pids([record_id for _, record_id in records]),
                      [pk for pk, _ in records], person=False)
    return collected.sorted()
