"""Reading columns: names of the local id, variable names, the year and the type of each
attribute variable. Which column is which identity field is decided in
:mod:`agency_node.ingest.plan` (names and values)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from agency_node.errors import SourceError
from protocol.identity import DIRECT_IDENTIFIERS

RECORD_ID_NAMES = ("record_id", "local_id", "recordid")
#: Attribute names that often re-identify in combination (flagged for k-anonymity checks).
QUASI_IDENTIFIER_HINTS = ("race", "ethnicity", "county", "birth_year", "age", "zip3", "school",
                          "district", "disability", "ell")

_YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
_FISCAL_YY = re.compile(r"(?i)FY\s*'?(\d\d)")
_COMPACT_DATE = re.compile(r"((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")
_ISO_DATE = re.compile(r"(\d{4})(?P<sep>[-/.])(\d{1,2})(?P=sep)(\d{1,2})")
_NUMERIC_DATE = re.compile(r"(\d{1,2})(?P<sep>[-/.])(\d{1,2})(?P=sep)(\d{4})")
_TRAILING_TIME = re.compile(r"(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?"
                            r"\s*(?:Z|[+-]\d{2}:?\d{2})?$")
_INTEGER = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)")
_NUMBER = re.compile(r"(?=[+-]?\.?\d)[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)?(?:\.\d+)?(?:[eE][+-]?\d+)?")
#: Cell texts agency exports use for "no value" (compared stripped and lower-cased).
MISSING_TOKENS = frozenset({"", "n/a", "na", "#n/a", "null", "nan", "-", "--", "."})
#: Column names of codes (after :func:`squeeze`): digits in them identify, they do not count.
_CODE_NAME = re.compile(r"(?:^|_)(?:code|codes|cd|naics|sic|fips|cip|soc|ncic|zip|id)(?:_|$)")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def squeeze(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def variable_name(column: str, taken: set[str]) -> str:
    """A wire-safe variable name for ``column`` (letters first, not an identity name)."""
    name = squeeze(column)[:60] or "column"
    if not name[0].isalpha() or name in DIRECT_IDENTIFIERS:
        name = f"v_{name}"[:60]
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def check_header(header: list[str]) -> None:
    """Refuse headers a mapping cannot be built on (blank or repeated names)."""
    if not header or all(not h.strip() for h in header):
        raise SourceError("the source has no header row")
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name.strip():
            raise SourceError(f"header column {position} has no name")
        if name in seen:
            raise SourceError(f"header column {name!r} appears twice")
        seen.add(name)


def is_missing(text: str) -> bool:
    """Whether a cell means "no value" (blank, or one of :data:`MISSING_TOKENS`)."""
    return text.strip().lower() in MISSING_TOKENS


def parse_year(text: str) -> int | None:
    """The year a cell names: the first plausible four-digit year ('2019', 'FY2016',
    '2019-20', 'SY 2019-2020', '11/24/1973' → 2019, 2016, 2019, 2019, 1973), a compact
    date ('20190315' → 2019) or a two-digit fiscal year ('FY16' → 2016); else None."""
    value = text.strip()
    if is_missing(value):
        return None
    match = _YEAR.search(value)
    if match:
        return int(match.group(1))
    match = _COMPACT_DATE.fullmatch(value)
    if match:
        return int(match.group(1))
    match = _FISCAL_YY.fullmatch(value)
    return 2000 + int(match.group(1)) if match else None


def date_format(date_order: str) -> str:
    """The accepted date spellings, for error messages."""
    order = {"DMY": "DD/MM/YYYY", "MDY": "MM/DD/YYYY"}.get(date_order, "MM/DD/YYYY")
    return f"a date as {order} (date_order {date_order}), YYYY-MM-DD or YYYYMMDD"


def parse_date(text: str, *, date_order: str = "MDY") -> str:
    """An attribute date as ISO ``YYYY-MM-DD``; raises ValueError naming the format.

    Year-first dates (``2004-03-07``, ``2004/03/07``, ``20040307``) are unambiguous and
    always accepted; ``03/07/2004`` (also with ``-`` or ``.``) is read per ``date_order``.
    Two-digit years are refused: for an attribute there is no safe century to guess."""
    value = _TRAILING_TIME.sub("", text.strip())
    match = _ISO_DATE.fullmatch(value) or _COMPACT_DATE.fullmatch(value)
    if match:
        year, month, day = (int(g) for g in match.groups() if g.isdigit())
    elif (match := _NUMERIC_DATE.fullmatch(value)) is not None:
        first, second, year = (int(g) for g in match.groups() if g.isdigit())
        month, day = (second, first) if date_order == "DMY" else (first, second)
    else:
        raise ValueError(f"expected {date_format(date_order)}")
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        raise ValueError(f"not a calendar date; expected {date_format(date_order)}") from None


def parse_value(text: str, type_: str, *, date_order: str = "MDY") -> object:
    """``text`` as ``type_``; a missing value (:func:`is_missing`) is None; raises
    ValueError whose message names the expected format when it does not parse."""
    value = text.strip()
    if is_missing(value):
        return None
    if type_ == "string":
        return value
    if type_ == "integer":
        if _INTEGER.fullmatch(value):
            return int(value.replace(",", ""))
        raise ValueError("expected an integer such as 12, -3 or 1,234")
    if type_ == "number":
        if _NUMBER.fullmatch(value):
            return float(value.replace(",", ""))
        raise ValueError("expected a number such as 3.5, -2 or 1,234.50")
    if type_ == "boolean":
        low = value.lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise ValueError("expected true/false, yes/no, y/n, t/f or 1/0")
    if type_ == "date":
        return parse_date(value, date_order=date_order)
    raise ValueError(f"unknown type {type_}")


def looks_like_code(column: str, values: Iterable[str]) -> bool:
    """Digit strings that identify rather than count: any value with a leading zero
    ('0042'), a column named like a code (``*_code``, ``*_cd``, ``naics``, ``fips``…), or
    every value the same width of five or more digits (NAICS 541511, FIPS 51087)."""
    if _CODE_NAME.search(squeeze(column)):
        return True
    widths: set[int] = set()
    count = 0
    for text in values:
        value = text.strip()
        if is_missing(value):
            continue
        if re.fullmatch(r"[+-]?0\d+", value):
            return True
        count += 1
        widths.add(len(value) if value.isdigit() else 0)
    return count >= 10 and len(widths) == 1 and min(widths) >= 5


def infer_type(samples: Iterable[str], *, column: str = "") -> str:
    """The narrowest type every non-missing sample parses as; codes stay strings."""
    values = [s for s in samples if not is_missing(s)]
    if not values:
        return "string"
    numeric_ok = not looks_like_code(column, values)
    for type_ in ("integer", "number", "boolean", "date"):
        if type_ in ("integer", "number") and not numeric_ok:
            continue
        try:
            for value in values:
                parse_value(value, type_)
        except ValueError:
            continue
        return type_
    return "string"


def is_quasi_identifier(column: str) -> bool:
    key = squeeze(column)
    return any(hint == key or key.startswith(hint + "_") or key.endswith("_" + hint)
               for hint in QUASI_IDENTIFIER_HINTS)
