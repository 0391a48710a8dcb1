"""US Social Security numbers.

Separators and spaces are dropped (``123-45-6789``, ``123 45 6789``). The result must be
9 digits; a bare 7- or 8-digit string (or number) is a numeric column that lost its
leading zeros (SSNs with areas 001–099 are real) and is zero-padded, but digits written
with separators must already be 9. A trailing ``.0`` on bare digits (a float column written
back to CSV) is ignored. Rules from the SSA's assignment scheme: area 000, 666
and 900–999, group 00 and serial 0000 are never issued → ``INVALID_SSN``. Well-known
stand-ins → ``PLACEHOLDER``.
"""

from __future__ import annotations

import re
from typing import Final

from protocol.identity import MissingReason
from protocol.normalize.result import Normalized
from protocol.normalize.text import MAX_RAW_CHARS, coerce_text, fold

#: SSNs written where the real one is unknown or withheld: repdigits (000000000 …
#: 999999999), the ascending and descending runs, the Woolworth wallet-card number
#: 078-05-1120 (used by thousands of people after 1938) and 219-09-9999 (the SSA's own
#: sample card).
PLACEHOLDER_SSNS: Final = frozenset(
    {str(d) * 9 for d in range(10)}
    | {"123456789", "012345678", "987654321", "078051120", "219099999"}
)

_NON_DIGITS: Final = re.compile(r"[^0-9]+")
# Bare digits, possibly with the ".0" a float column adds when written back to CSV.
_BARE_DIGITS: Final = re.compile(r"([0-9]{7,9})(?:\.0+)?")


def normalize_ssn(value: object) -> Normalized[str]:
    """Normalise an SSN to its 9 digits (``"123-45-6789"`` → ``"123456789"``).

    Wrong digit count or no digits → ``UNPARSEABLE``; never-issued area/group/serial →
    ``INVALID_SSN``; known stand-ins (``123456789``, ``111111111``, ``078051120``) →
    ``PLACEHOLDER``. Never raises.
    """
    result = ssn_value(value)
    if type(result) is MissingReason:
        return Normalized.missing(result)
    return Normalized.ok(result)


def ssn_value(value: object) -> str | MissingReason:
    """:func:`normalize_ssn` as the bare digits or the reason (no result object).

    SSNs are unique per person, so they are not cached: this runs for every record, and
    :func:`~protocol.normalize.record.normalize_identity` calls it directly.
    """
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        text = value
    else:
        coerced = coerce_text(value)
        if isinstance(coerced, MissingReason):
            return coerced
        text = coerced
    # Fast path for the two spellings nearly every system uses: 123-45-6789, 123456789.
    if len(text) == 11 and text[3] == "-" and text[6] == "-":
        plain = text[:3] + text[4:6] + text[7:]
        if plain.isascii() and plain.isdigit():
            return _check(plain)
    elif len(text) == 9 and text.isascii() and text.isdigit():
        return _check(text)
    digits = _digits(text)
    if isinstance(digits, MissingReason):
        return digits
    return _check(digits)


def _digits(text: str) -> str | MissingReason:
    # fold: full-width and other compatibility digits become ASCII before filtering.
    text = fold(text).strip()
    if not text:
        return MissingReason.ABSENT
    bare = _BARE_DIGITS.fullmatch(text)
    if bare:
        return bare[1].zfill(9)
    digits = _NON_DIGITS.sub("", text)
    return digits if len(digits) == 9 else MissingReason.UNPARSEABLE


def _check(digits: str) -> str | MissingReason:
    if digits in PLACEHOLDER_SSNS:
        return MissingReason.PLACEHOLDER
    if (
        digits[0] == "9"
        or digits.startswith(("000", "666"))
        or digits[3:5] == "00"
        or digits[5:] == "0000"
    ):
        return MissingReason.INVALID_SSN
    return digits
