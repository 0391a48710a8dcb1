"""Birth dates in the formats agencies really export.

Accepted: ``datetime.date``/``datetime`` objects; ISO ``2004-03-07`` (also ``2004/03/07``
and with a time part, ``2004-03-07T00:00:00Z``); slash/dash/dot dates ``03/07/2004``,
``3/7/2004``, ``03-07-04`` read month-first or day-first per
:attr:`NormalizationOptions.date_order` (a trailing time such as ``00:00:00`` or
``12:00:00 AM``, as spreadsheets and SQL exports add, is ignored); compact ``20040307``;
month names ``07-MAR-2004`` (Oracle's default), ``7 March 2004``, ``March 7, 2004``.

Two-digit years pivot on today's year: ``yy`` greater than today's two-digit year is in
the previous century (in 2025, ``26`` → 1926 and ``25`` → 2025), since a birth date
cannot be in the future.

Checks, in order: not a real calendar date → ``IMPOSSIBLE_DATE``; a known stand-in
(0000-00-00, 1800-01-01, 1900-01-01, 1901-01-01, 9999-12-31) → ``PLACEHOLDER``; before
1900-01-01 or after today → ``OUT_OF_RANGE``. Anything else, including Excel serial
numbers (``38053``), → ``UNPARSEABLE``: guessing an epoch would invent birth dates.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Final

from protocol.identity import MissingReason
from protocol.normalize.result import DEFAULT_OPTIONS, DateOrder, NormalizationOptions, Normalized
from protocol.normalize.text import MAX_RAW_CHARS, coerce_text, fold

EARLIEST_BIRTH_DATE: Final = dt.date(1900, 1, 1)

#: Dates systems write when the real one is unknown (1900-01-01 is also before the range,
#: but is reported as what it is: a stand-in, not a wrong date).
PLACEHOLDER_DATES: Final = frozenset(
    {
        dt.date(1800, 1, 1),
        dt.date(1900, 1, 1),
        dt.date(1901, 1, 1),
        dt.date(9999, 12, 31),
    }
)

_MONTH_NAMES: Final = (
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE",
    "JULY", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER",
)  # fmt: skip
#: Full English month names, their three-letter abbreviations, and SEPT.
_MONTHS: Final[dict[str, int]] = {
    **{name: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "SEPT": 9,
}

# An optional trailing time of day (with seconds, fraction, AM/PM, zone): exports of
# DATETIME columns carry one, and the birth date is the date part.
_TIME: Final = (
    r"(?:(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?\s*(?:[AP]\.?M\.?)?"
    r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_YMD: Final = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME, re.ASCII)
_NUMERIC: Final = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})" + _TIME, re.ASCII)
_COMPACT: Final = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_DAY_MONTH_NAME: Final = re.compile(
    r"(\d{1,2})[-\s/.]*([A-Z]{3,9})\.?[-\s/.,]*(\d{4}|\d{2})" + _TIME, re.ASCII
)
_MONTH_NAME_DAY: Final = re.compile(
    r"([A-Z]{3,9})\.?\s*(\d{1,2})(?:ST|ND|RD|TH)?\s*,?\s*(\d{4})" + _TIME, re.ASCII
)


def normalize_dob(
    value: object, options: NormalizationOptions = DEFAULT_OPTIONS
) -> Normalized[dt.date]:
    """Normalise a birth date to a :class:`datetime.date` (see the module docstring for the
    formats and checks). Never raises."""
    today = options.reference_date()
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        return _dob_from_text(value, options.date_order, today)
    if isinstance(value, dt.date) and type(value).__name__ != "NaTType":
        try:
            day = value.date() if isinstance(value, dt.datetime) else value
            return _check(dt.date(day.year, day.month, day.day), today)
        except (TypeError, ValueError, OverflowError):
            # A date subclass whose fields are not real numbers (defensive: foreign types).
            return Normalized.missing(MissingReason.UNPARSEABLE)
    text = coerce_text(value)
    if isinstance(text, MissingReason):
        return Normalized.missing(text)
    return _dob_from_text(text, options.date_order, today)


@functools.lru_cache(maxsize=1 << 16)
def _dob_from_text(raw: str, order: DateOrder, today: dt.date) -> Normalized[dt.date]:
    # Fast paths for the three spellings agency exports nearly always use, read exactly as
    # the patterns below read them (ASCII digits only: fold would not change them).
    if len(raw) == 8:
        if raw.isascii() and raw.isdigit():  # 20040307, as _COMPACT
            if raw[0] == "0" and raw != "00000000":
                return Normalized.missing(MissingReason.UNPARSEABLE)
            return _build(int(raw[:4]), int(raw[4:6]), int(raw[6:]), today)
    elif len(raw) == 10 and raw.isascii():
        if raw[4] == raw[7] == "-" and (raw[:4] + raw[5:7] + raw[8:]).isdigit():
            # 2004-03-07, as _YMD
            return _build(int(raw[:4]), int(raw[5:7]), int(raw[8:]), today)
        if raw[2] == raw[5] == "/" and (raw[:2] + raw[3:5] + raw[6:]).isdigit():
            # 03/07/2004, as _NUMERIC (00/00/0000 included: _year("0000") is 0)
            if order == "DMY":
                return _build(int(raw[6:]), int(raw[3:5]), int(raw[:2]), today)
            return _build(int(raw[6:]), int(raw[:2]), int(raw[3:5]), today)
    return _parse(raw, order, today)


def _parse(raw: str, order: DateOrder, today: dt.date) -> Normalized[dt.date]:
    """Every accepted format (the fast paths above are shortcuts for three of them)."""
    # fold: upper case for month names and AM/PM, and full-width digits become ASCII.
    text = fold(raw).strip()
    if not text:
        return Normalized.missing(MissingReason.ABSENT)
    match = _YMD.fullmatch(text)
    if match:
        year, _, month, day = match.groups()
        return _build(int(year), int(month), int(day), today)
    match = _NUMERIC.fullmatch(text)
    if match:
        first, _, second, year = match.groups()
        if order == "DMY":
            first, second = second, first
        if int(year) == 0 and int(first) == int(second) == 0:
            return _build(0, 0, 0, today)  # 00/00/00 is the zero date, not 2000-00-00
        return _build(_year(year, today), int(first), int(second), today)
    match = _COMPACT.fullmatch(text)
    if match:
        year, month, day = match.groups()
        if year[0] == "0" and text != "00000000":
            # 03072004 is MMDDYYYY, not year 307: a format we do not guess at.
            return Normalized.missing(MissingReason.UNPARSEABLE)
        return _build(int(year), int(month), int(day), today)
    match = _DAY_MONTH_NAME.fullmatch(text)
    if match and match[2] in _MONTHS:
        return _build(_year(match[3], today), _MONTHS[match[2]], int(match[1]), today)
    match = _MONTH_NAME_DAY.fullmatch(text)
    if match and match[1] in _MONTHS:
        return _build(int(match[3]), _MONTHS[match[1]], int(match[2]), today)
    return Normalized.missing(MissingReason.UNPARSEABLE)


def _year(digits: str, today: dt.date) -> int:
    if len(digits) == 4:
        return int(digits)
    yy = int(digits)
    century = today.year - today.year % 100
    return century + yy if yy <= today.year % 100 else century - 100 + yy


# Keyed by the date itself, so the many spellings of one birth date share one result and
# a miss in the text cache above costs a regex match, not a date construction.
@functools.lru_cache(maxsize=1 << 16)
def _build(year: int, month: int, day: int, today: dt.date) -> Normalized[dt.date]:
    if year == month == day == 0:
        # 0000-00-00 / 00/00/0000: the zero date of MySQL and many COBOL extracts.
        return Normalized.missing(MissingReason.PLACEHOLDER)
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return Normalized.missing(MissingReason.IMPOSSIBLE_DATE)
    return _check(date, today)


def _check(date: dt.date, today: dt.date) -> Normalized[dt.date]:
    if date in PLACEHOLDER_DATES:
        return Normalized.missing(MissingReason.PLACEHOLDER)
    if date < EARLIEST_BIRTH_DATE or date > today:
        return Normalized.missing(MissingReason.OUT_OF_RANGE)
    return Normalized.ok(date)
