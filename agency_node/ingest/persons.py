"""Agency persons at ingest: rows that share the mapping's ``person_id`` are one person —
unless the id is *reused*, held by rows that are clearly different people.

Two rows of one person id are **clearly different people** when, after normalisation,
both have a first name and a birth date and

- their first names differ clearly: not equal, neither a prefix of the other (``CHRIS``,
  ``CHRISTOPHER``), not nicknames of one formal name (``BILL``, ``WILLIAM``), more than two
  edits apart (a typo is one or two), and neither row's first name is (or starts with)
  the other row's middle name or initial (a person known by the middle name); **and**
- their birth dates differ clearly: neither is one clerical error away from the other, an
  error being day and month swapped, a day off by one, or one digit of ``YYYYMMDD``
  mistyped.

One such pair makes the id reused: every row of it is quarantined (``reused_person_id``),
because nothing says which rows belong to which person — it is never merged. The errors
an agency's clerks make (a nickname one year, a typo or a swapped birth day another) do
not make an id reused; two people under one id who share a birth date (twins), a first
name, or names and birth dates within those errors of each other are not caught by it.

Detection reads the source once before the load (:func:`find_reused_ids`), normalising
only first names and birth dates, so the load itself stays one streaming pass.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from agency_node.config import NodeConfig
from agency_node.ingest.columns import is_missing
from agency_node.ingest.sources import Problem, SourceStats, open_source
from protocol.normalize import NormalizationOptions, normalize_identity

#: Distinct (first name, birth date) versions kept per person id; more are compared with
#: these but not kept (bounded memory on an id with many spellings).
_VERSIONS_KEPT = 16
#: Longest person id: longer ones are quarantined (``field_too_long``) like record ids.
PERSON_ID_MAX = 255


@dataclass(frozen=True)
class Version:
    """What the reused-id rule compares of one row."""

    first: str
    formal: frozenset[str]  # the formal names a nickname stands for, and the name itself
    dob: dt.date
    middle: str = ""  # the middle name or initial, '' = none


def _edits_over_two(a: str, b: str) -> bool:
    """Whether the edit distance of ``a`` and ``b`` is more than 2 (banded: cheap)."""
    if abs(len(a) - len(b)) > 2:
        return True
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (ca != cb))
        if min(current) > 2:
            return True
        previous = current
    return previous[-1] > 2


def _prefixed(a: str, b: str) -> bool:
    return bool(a and b) and (a.startswith(b) or b.startswith(a))


def names_clearly_differ(a: Version, b: Version) -> bool:
    if _prefixed(a.first, b.first) or a.formal & b.formal:
        return False
    if _prefixed(a.first, b.middle) or _prefixed(b.first, a.middle):
        return False  # first and middle name swapped in one of the rows
    return _edits_over_two(a.first, b.first)


@functools.lru_cache(maxsize=4096)
def _one_error_away(date: dt.date) -> frozenset[int]:
    """The date and every date one clerical error away from it, as ordinals."""
    out = {date.toordinal() + delta for delta in (-1, 0, 1)}
    candidates = [(date.year, date.day, date.month)]
    digits = f"{date.year:04d}{date.month:02d}{date.day:02d}"
    for position in range(8):
        for digit in "0123456789":
            if digit != digits[position]:
                text = digits[:position] + digit + digits[position + 1:]
                candidates.append((int(text[:4]), int(text[4:6]), int(text[6:])))
    for year, month, day in candidates:
        try:
            out.add(dt.date(year, month, day).toordinal())
        except ValueError:
            continue
    return frozenset(out)


def dobs_clearly_differ(a: dt.date, b: dt.date) -> bool:
    # One error between the two rows, not one in each: two people born the same year
    # often differ in only two digits, and a missed reused id merges two people.
    return b.toordinal() not in _one_error_away(a) and a.toordinal() not in _one_error_away(b)


def clearly_different(a: Version, b: Version) -> bool:
    """The reused-id rule for two rows (see the module docstring)."""
    return names_clearly_differ(a, b) and dobs_clearly_differ(a.dob, b.dob)


@dataclass
class ReusedIds:
    """Per person id, the distinct versions seen so far; ``reused`` the ids found held by
    clearly different people."""

    versions: dict[str, list[Version]] = field(default_factory=dict)
    reused: set[str] = field(default_factory=set)

    def add(self, person_id: str, version: Version | None) -> None:
        if version is None or person_id in self.reused:
            return
        seen = self.versions.setdefault(person_id, [])
        if version in seen:
            return
        if any(clearly_different(version, other) for other in seen):
            self.reused.add(person_id)
            del self.versions[person_id]
            return
        if len(seen) < _VERSIONS_KEPT:
            seen.append(version)


def version_of(first_name: str, dob: str, options: NormalizationOptions,
               middle_name: str = "") -> Version | None:
    """The normalised first name, birth date (and middle name) of a row, or None without
    a first name and a birth date."""
    identity = normalize_identity({"first_name": first_name, "dob": dob,
                                   "middle_name": middle_name}, options)
    if identity.first_name is None or identity.dob is None:
        return None
    formal = frozenset((identity.first_name, *identity.first_name_canonical))
    return Version(identity.first_name, formal, identity.dob, identity.middle_name or "")


def find_reused_ids(config: NodeConfig) -> set[str]:
    """The person ids of the configured source held by clearly different people (empty
    when no ``person_id`` column, or no first name or birth date, is mapped)."""
    mapping = config.mapping
    first_col, dob_col = mapping.identity.get("first_name"), mapping.identity.get("dob")
    middle_col = mapping.identity.get("middle_name", "")
    if not (mapping.person_id and first_col and dob_col):
        return set()
    options = NormalizationOptions(date_order=config.source.date_order)
    found = ReusedIds()
    with open_source(config.source, SourceStats()) as (header, rows):
        if not {mapping.person_id, first_col, dob_col} <= set(header):
            return set()  # the load reports the missing column
        for raw in rows:
            if raw.values is None:
                continue
            person = raw.values.get(mapping.person_id, "").strip()
            if not is_missing(person) and len(person) <= PERSON_ID_MAX:
                found.add(person, version_of(raw.values.get(first_col, ""),
                                             raw.values.get(dob_col, ""), options,
                                             raw.values.get(middle_col, "")))
    return found.reused


class PersonIds:
    """The person id of each row at load: None when blank (the row is its own person),
    else the id — or a quarantine problem when it is too long or reused. Reused ids are
    numbered in order of first appearance: the quarantine names the number, never the id."""

    def __init__(self, column: str, reused: set[str]) -> None:
        self.column = column
        self.reused = reused
        self.numbers: dict[str, int] = {}

    def check(self, values: dict[str, str], problems: list[Problem]) -> str | None:
        text = values.get(self.column, "").strip() if self.column else ""
        if is_missing(text):
            return None
        if len(text) > PERSON_ID_MAX:
            problems.append(Problem(self.column, "field_too_long", "person id too long"))
        elif text in self.reused:
            number = self.numbers.setdefault(text, len(self.numbers) + 1)
            problems.append(Problem(self.column, "reused_person_id", (
                f"reused person id #{number} of {len(self.reused)}: its rows are clearly "
                "different people (first name and birth date); none of them is loaded")))
        else:
            return text
        return None
