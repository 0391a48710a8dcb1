"""Street addresses and city names.

Street address: upper-case ASCII words of letters and digits separated by single spaces.
Periods and apostrophes join (``P.O.`` → ``PO``), other punctuation separates; every word
that is a USPS street suffix, directional or secondary-unit designator (Publication 28,
appendices C1 and C2) becomes its standard abbreviation wherever it stands (``North
Avenue`` → ``N AVE``) — applied to both sides of a comparison, a uniform rule agrees more
often than guessing which word is the suffix. ``PO Box`` spellings unify to ``PO BOX``,
and ``#`` is read as ``APT`` unless it follows a unit designator (``Apt #4`` → ``APT 4``).

City: upper-case letters and single spaces (apostrophes join, any other non-letter
separates: ``St.Louis`` is ``ST LOUIS``); ``SAINT`` → ``ST``, ``SAINTE`` → ``STE``,
``FORT`` → ``FT``, ``MOUNT`` → ``MT`` (the common variant spellings of one city name).
"""

from __future__ import annotations

import functools
import re
from typing import Final

from protocol.identity import MissingReason
from protocol.normalize.result import Normalized
from protocol.normalize.text import MAX_RAW_CHARS, coerce_text, fold

MAX_ADDRESS_CHARS: Final = 100
MAX_CITY_CHARS: Final = 60

#: USPS Publication 28, C1 (street suffixes) — the common ones.
STREET_SUFFIXES: Final[dict[str, str]] = {
    "ALLEY": "ALY", "AVENUE": "AVE", "AV": "AVE", "AVEN": "AVE", "BOULEVARD": "BLVD",
    "BOUL": "BLVD", "BRIDGE": "BRG", "CENTER": "CTR", "CIRCLE": "CIR", "CIRCL": "CIR",
    "COURT": "CT", "COVE": "CV", "CREEK": "CRK", "CRESCENT": "CRES", "CROSSING": "XING",
    "DRIVE": "DR", "DRIV": "DR", "ESTATES": "ESTS", "EXPRESSWAY": "EXPY", "EXTENSION": "EXT",
    "FREEWAY": "FWY", "GARDENS": "GDNS", "GROVE": "GRV", "HEIGHTS": "HTS", "HIGHWAY": "HWY",
    "HIWAY": "HWY", "HILL": "HL", "HILLS": "HLS", "HOLLOW": "HOLW", "JUNCTION": "JCT",
    "LANDING": "LNDG", "LANE": "LN", "MEADOWS": "MDWS", "MOUNTAIN": "MTN", "PARKWAY": "PKWY",
    "PKY": "PKWY", "PLACE": "PL", "PLAZA": "PLZ", "POINT": "PT", "RIDGE": "RDG", "ROAD": "RD",
    "ROUTE": "RTE", "SPRINGS": "SPGS", "SQUARE": "SQ", "STATION": "STA", "STREET": "ST",
    "STR": "ST", "TERRACE": "TER", "TRAIL": "TRL", "TURNPIKE": "TPKE", "VALLEY": "VLY",
    "VIEW": "VW", "VILLAGE": "VLG",
}  # fmt: skip

DIRECTIONALS: Final[dict[str, str]] = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "NORTHEAST": "NE",
    "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}  # fmt: skip

#: USPS Publication 28, C2 (secondary unit designators).
UNIT_DESIGNATORS: Final[dict[str, str]] = {
    "APARTMENT": "APT", "APT": "APT", "APPT": "APT", "BASEMENT": "BSMT", "BSMT": "BSMT",
    "BUILDING": "BLDG", "BLDG": "BLDG", "DEPARTMENT": "DEPT", "DEPT": "DEPT", "FLOOR": "FL",
    "FL": "FL", "FRONT": "FRNT", "FRNT": "FRNT", "LOT": "LOT", "LOWER": "LOWR", "LOWR": "LOWR",
    "OFFICE": "OFC", "OFC": "OFC", "PENTHOUSE": "PH", "PH": "PH", "REAR": "REAR", "ROOM": "RM",
    "RM": "RM", "SPACE": "SPC", "SPC": "SPC", "SUITE": "STE", "STE": "STE", "TRAILER": "TRLR",
    "TRLR": "TRLR", "UNIT": "UNIT", "UPPER": "UPPR", "UPPR": "UPPR",
}  # fmt: skip

_ADDRESS_WORDS: Final[dict[str, str]] = {**STREET_SUFFIXES, **DIRECTIONALS, **UNIT_DESIGNATORS}
_UNIT_CODES: Final = frozenset(UNIT_DESIGNATORS.values())

CITY_WORDS: Final[dict[str, str]] = {"SAINT": "ST", "SAINTE": "STE", "FORT": "FT", "MOUNT": "MT"}

_ADDRESS_PLACEHOLDERS: Final = frozenset(
    {"UNKNOWN", "UNK", "NONE", "NULL", "NA", "NOADDRESS", "HOMELESS", "NOTGIVEN", "REFUSED"}
)
_CITY_PLACEHOLDERS: Final = frozenset({"UNKNOWN", "UNK", "NONE", "NULL", "NA", "NOTGIVEN"})


def _ascii_table(keep: str, join: str, extra: dict[str, str]) -> dict[int, str | None]:
    """A str.translate table over ASCII: lower case → upper, ``keep`` kept, ``join``
    deleted, ``extra`` as given, anything else → a space (a word break)."""
    table: dict[int, str | None] = {}
    for code in range(128):
        char = chr(code)
        if char in extra:
            table[code] = extra[char]
        elif char in join:
            table[code] = None
        elif char.isalpha():
            table[code] = char.upper()
        elif char not in keep:
            table[code] = " "
    return table


# One translate + split per value instead of a regex scan: addresses are nearly unique,
# so this path runs for almost every record.
_ADDRESS_CHARS: Final = _ascii_table("0123456789", ".'`", {"#": " # "})
_CITY_CHARS: Final = _ascii_table("", "'`", {})
# Runs after the word table, which has already turned OFFICE into its unit code OFC.
_PO_BOX: Final = re.compile(r"\b(?:P ?O|POST OFC) ?BOX\b")


def normalize_street_address(value: object) -> Normalized[str]:
    """Normalise a street address line (``123 North Main Street, Apt. #4`` →
    ``123 N MAIN ST APT 4``). No letters → ``NO_LETTERS``; stand-ins (``UNKNOWN``,
    ``HOMELESS``, ``N/A``) → ``PLACEHOLDER``; over 100 characters → ``TOO_LONG``.
    Never raises."""
    result = street_address_value(value)
    if type(result) is MissingReason:
        return Normalized.missing(result)
    return Normalized.ok(result)


def street_address_value(value: object) -> str | MissingReason:
    """:func:`normalize_street_address` as the bare address or the reason (no result
    object); :func:`~protocol.normalize.record.normalize_identity` calls it directly."""
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        return address_from_text(value)
    text = coerce_text(value)
    if isinstance(text, MissingReason):
        return text
    return address_from_text(text)


def address_from_text(text: str) -> str | MissingReason:
    """The address rules on text of at most :data:`MAX_RAW_CHARS` characters.

    Not cached: street addresses are nearly unique per person (in the benchmark's
    100,000 records, 96,000 distinct), so a cache would cost its bookkeeping on almost
    every record and save almost nothing.
    """
    if text.isascii():
        if text.replace(" ", "").isalnum():
            # Only ASCII letters, digits and spaces: what the table below does to them.
            tokens = text.upper().split()
        else:
            tokens = text.translate(_ADDRESS_CHARS).split()
    elif text.isspace():
        return MissingReason.ABSENT
    else:
        tokens = fold(text).translate(_ADDRESS_CHARS).split()
    if not tokens:
        # Blank, or nothing but separators: ABSENT only for blank text.
        return MissingReason.ABSENT if not text or text.isspace() else MissingReason.NO_LETTERS
    get = _ADDRESS_WORDS.get
    if "#" not in tokens:
        address = " ".join(map(get, tokens, tokens))
    else:
        words: list[str] = []
        for word in tokens:
            if word == "#":
                if words and words[-1] in _UNIT_CODES:
                    continue
                word = "APT"  # "#" stands for the unit designator
            words.append(get(word, word))
        address = " ".join(words)
    # The words' letters and digits (ASCII only, by construction), before PO BOX unifies.
    letters = address.replace(" ", "")
    if "BOX" in address:
        address = _PO_BOX.sub("PO BOX", address)
    if letters.isdigit():
        return MissingReason.NO_LETTERS
    if letters in _ADDRESS_PLACEHOLDERS or not letters.strip("X"):
        return MissingReason.PLACEHOLDER
    if len(address) > MAX_ADDRESS_CHARS:
        return MissingReason.TOO_LONG
    return address


def normalize_city(value: object) -> Normalized[str]:
    """Normalise a city name (``St. Louis`` → ``ST LOUIS``, ``Winston-Salem`` →
    ``WINSTON SALEM``, ``Coeur d'Alene`` → ``COEUR DALENE``). No letters →
    ``NO_LETTERS``; stand-ins → ``PLACEHOLDER``; over 60 characters → ``TOO_LONG``.
    Never raises."""
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        return _city_from_text(value)
    text = coerce_text(value)
    if isinstance(text, MissingReason):
        return Normalized.missing(text)
    return _city_from_text(text)


@functools.lru_cache(maxsize=1 << 15)
def _city_from_text(text: str) -> Normalized[str]:
    if not text or text.isspace():
        return Normalized.missing(MissingReason.ABSENT)
    # Only apostrophes join here: a period ends an abbreviation (St.Louis = St. Louis).
    ascii_text = text if text.isascii() else fold(text)
    words = [CITY_WORDS.get(w, w) for w in ascii_text.translate(_CITY_CHARS).split()]
    if not words:
        return Normalized.missing(MissingReason.NO_LETTERS)
    city = " ".join(words)
    letters = "".join(words)
    if letters in _CITY_PLACEHOLDERS or not letters.strip("X"):
        return Normalized.missing(MissingReason.PLACEHOLDER)
    if len(city) > MAX_CITY_CHARS:
        return Normalized.missing(MissingReason.TOO_LONG)
    return Normalized.ok(city)
