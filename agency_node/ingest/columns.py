"""Recognising columns: which local column is which identity field, the local id, the
year, and the type of each attribute variable."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable

from agency_node.errors import SourceError
from protocol.identity import DIRECT_IDENTIFIERS

#: Local column names (after lower-casing and squeezing separators to "_") per identity field.
IDENTITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name", "firstname", "first", "fname", "given_name", "forename"),
    "middle_name": ("middle_name", "middlename", "middle", "mname", "middle_initial"),
    "last_name": ("last_name", "lastname", "last", "lname", "surname", "family_name"),
    "name_suffix": ("name_suffix", "suffix", "generation"),
    "dob": ("dob", "birth_date", "birthdate", "date_of_birth", "birthday"),
    "sex": ("sex", "gender"),
    "ssn": ("ssn", "social_security_number", "social_security", "ss_number"),
    "postal_code": ("postal_code", "zip", "zip_code", "zipcode", "postcode", "zip5"),
    "street_address": ("street_address", "address", "street", "address_line_1", "address1"),
    "city": ("city", "town"),
}
RECORD_ID_NAMES = ("record_id", "local_id", "recordid")
YEAR_COLUMN_NAMES = ("school_year", "enroll_year", "year")
#: Columns never loaded by default: synthetic ground truth from `fedlink synth`.
IGNORED_BY_DEFAULT = ("truth_id",)
#: Attribute names that often re-identify in combination (flagged for k-anonymity checks).
QUASI_IDENTIFIER_HINTS = ("race", "ethnicity", "county", "birth_year", "age", "zip3", "school",
                          "district", "disability", "ell")

_YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
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


def auto_map(header: Iterable[str]) -> tuple[str, dict[str, str], str, list[str], list[str]]:
    """(record_id column, identity mapping, year column, ignored columns, attribute columns)."""
    by_key = {squeeze(col): col for col in header}
    identity: dict[str, str] = {}
    for field, names in IDENTITY_SYNONYMS.items():
        for name in names:
            if name in by_key and by_key[name] not in identity.values():
                identity[field] = by_key[name]
                break
    record_id = next((by_key[n] for n in RECORD_ID_NAMES if n in by_key), "")
    if not record_id:
        raise SourceError(f"no record id column (expected one named {', '.join(RECORD_ID_NAMES)})")
    if not identity:
        raise SourceError("no column looks like an identity field (first_name, last_name, dob…)")
    year = next((by_key[n] for n in YEAR_COLUMN_NAMES if n in by_key), "")
    ignored = [by_key[n] for n in IGNORED_BY_DEFAULT if n in by_key]
    # A second column named like an identity field (zip beside postal_code) holds identity
    # values too: it is never offered as an attribute.
    lookalikes = {name for names in IDENTITY_SYNONYMS.values() for name in names}
    ignored += [col for key, col in by_key.items()
                if key in lookalikes and col not in identity.values()]
    taken = {record_id, *identity.values(), *ignored}
    attributes = [col for col in header if col not in taken]
    return record_id, identity, year, ignored, attributes


def parse_year(text: str) -> int | None:
    """The first plausible four-digit year ('2019', '2019-20', '2019-2020' → 2019)."""
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def parse_value(text: str, type_: str) -> object:
    """``text`` as ``type_``; '' is None; raises ValueError when it does not parse."""
    value = text.strip()
    if not value:
        return None
    if type_ == "string":
        return value
    if type_ == "integer":
        return int(value.replace(",", "")) if re.fullmatch(r"[+-]?\d[\d,]*", value) else _fail()
    if type_ == "number":
        number = float(value.replace(",", ""))
        return number if math.isfinite(number) else _fail()
    if type_ == "boolean":
        low = value.lower()
        return True if low in _TRUE else False if low in _FALSE else _fail()
    if type_ == "date":
        return dt.date.fromisoformat(value).isoformat()
    raise ValueError(type_)


def _fail() -> object:
    raise ValueError("does not parse")


def infer_type(samples: Iterable[str]) -> str:
    """The narrowest type every non-empty sample parses as."""
    values = [s for s in samples if s.strip()]
    if not values:
        return "string"
    for type_ in ("integer", "number", "boolean", "date"):
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
