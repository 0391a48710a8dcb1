"""The period of a longitudinal row (the mapping's ``period_column``), normalised.

Agencies name their periods in many ways; each parses to one normalised text and a kind:

- ``quarter``: ``2021Q3``, ``2021 Q3``, ``2021-Q3``, ``Q3 2021``, ``Q3-2021`` → ``2021Q3``;
- ``term``: ``2021FA``, ``FA2021``, ``Fall 2021``, ``2022 Spring``, ``SU22`` (FA, SP, SU,
  WI) → ``2021FA``; a numbered term of a year, ``2021-1``, ``2021/2``, ``2021 T3`` (1–4)
  → ``2021T1``;
- ``school_year``: ``2021-22``, ``2021-2022``, ``2021/22``, ``SY 2021-22``,
  ``AY2021-2022`` → ``2021-22`` (the second year must follow the first);
- ``year``: ``2021``, ``CY2021`` → ``2021``;
- ``date``: any date ``date_order`` reads (``2021-03-07``, ``03/07/2021``, ``20210307``)
  → ``2021-03-07``.

The period's ``year`` is the calendar year it starts in (a school year ``2021-22`` is
2021, as the year column reads it), which scopes requests when no year column is mapped.
A value that fits none of these is not guessed at: the row is quarantined (``bad_period``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agency_node.ingest.columns import parse_date

#: The kinds a period can be, in the order the profile lists them.
PERIOD_KINDS = ("year", "school_year", "term", "quarter", "date")
_YEAR = r"((?:19|20)\d\d)"
_SEASONS = {"FA": "FA", "FALL": "FA", "AUT": "FA", "AUTUMN": "FA", "SP": "SP", "SPR": "SP",
            "SPRING": "SP", "SU": "SU", "SUM": "SU", "SUMMER": "SU", "WI": "WI",
            "WIN": "WI", "WINTER": "WI"}
_SEASON = "(" + "|".join(sorted(_SEASONS, key=len, reverse=True)) + ")"
_SEP = r"\s*[-/ ]?\s*"
_QUARTER = (re.compile(rf"{_YEAR}{_SEP}Q([1-4])"), re.compile(rf"Q([1-4]){_SEP}{_YEAR}"))
_TERM = (re.compile(rf"{_YEAR}{_SEP}{_SEASON}"), re.compile(rf"{_SEASON}{_SEP}{_YEAR}"),
         re.compile(rf"{_SEASON}{_SEP}(\d\d)"))
_NUMBERED_TERM = re.compile(rf"{_YEAR}\s*(?:[-/]|\s*T)\s*([1-4])")
_SCHOOL_YEAR = re.compile(rf"(?:(?:SY|AY)\s*[-]?\s*)?{_YEAR}\s*[-/]\s*(\d\d|\d{{4}})")
_PLAIN_YEAR = re.compile(rf"(?:CY\s*)?{_YEAR}")
#: What a period looks like, for the quarantine detail (never the value itself).
EXPECTED = ("expected a period: a year (2021), school year (2021-22), term (2021FA, "
            "Fall 2021, 2021-1), quarter (2021Q3) or date")


@dataclass(frozen=True)
class Period:
    """One parsed period: ``kind`` (see :data:`PERIOD_KINDS`), the normalised ``value`` and
    the calendar ``year`` it starts in."""

    kind: str
    value: str
    year: int


def _quarter(text: str) -> Period | None:
    for number, pattern in enumerate(_QUARTER):
        match = pattern.fullmatch(text)
        if match:
            year, q = (match.group(1), match.group(2)) if number == 0 else \
                (match.group(2), match.group(1))
            return Period("quarter", f"{year}Q{q}", int(year))
    return None


def _term(text: str) -> Period | None:
    for number, pattern in enumerate(_TERM):
        match = pattern.fullmatch(text)
        if not match:
            continue
        if number == 0:
            year, season = match.group(1), match.group(2)
        elif number == 1:
            season, year = match.group(1), match.group(2)
        else:  # SU22: a two-digit year after a season is this century's
            season, year = match.group(1), f"20{match.group(2)}"
        return Period("term", f"{year}{_SEASONS[season]}", int(year))
    match = _NUMBERED_TERM.fullmatch(text)
    if match:
        return Period("term", f"{match.group(1)}T{match.group(2)}", int(match.group(1)))
    return None


def _school_year(text: str) -> Period | None:
    match = _SCHOOL_YEAR.fullmatch(text)
    if not match:
        return None
    first, second = int(match.group(1)), match.group(2)
    # The second year must follow the first: 2021-22 and 2021-2022, never 2021-05.
    if (int(second) if len(second) == 4 else first // 100 * 100 + int(second)) != first + 1 \
            and not (len(second) == 2 and first % 100 == 99 and second == "00"):
        return None
    return Period("school_year", f"{first}-{(first + 1) % 100:02d}", first)


def parse_period(text: str, *, date_order: str = "MDY") -> Period:
    """``text`` as a :class:`Period`; raises ValueError (naming the accepted forms, never
    the value) when it is none of them. Missing values are the caller's to skip."""
    value = re.sub(r"\s+", " ", text.strip().upper())
    for parse in (_quarter, _term, _school_year):
        period = parse(value)
        if period is not None:
            return period
    match = _PLAIN_YEAR.fullmatch(value)
    if match:
        return Period("year", match.group(1), int(match.group(1)))
    try:
        iso = parse_date(value, date_order=date_order)
    except ValueError:
        raise ValueError(EXPECTED) from None
    return Period("date", iso, int(iso[:4]))


def looks_like_period(text: str) -> bool:
    """Whether ``text`` parses as a period other than a bare date (for detection: a date
    column is a date variable unless the steward maps it as the period)."""
    try:
        return parse_period(text).kind != "date"
    except ValueError:
        return False


_SEASON_ORDER = {"WI": 0, "SP": 1, "SU": 2, "FA": 3}


def period_sort_key(value: str) -> tuple[int, int, str]:
    """Chronological order of normalised periods of one kind (``2022SP`` before
    ``2022FA``, which a plain text sort gets wrong)."""
    year = int(value[:4]) if value[:4].isdigit() else 0
    rest = value[4:]
    if rest in _SEASON_ORDER:
        return year, _SEASON_ORDER[rest], ""
    return year, 0, rest
