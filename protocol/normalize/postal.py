"""Postal codes.

``us`` (the default): ZIP and ZIP+4 reduce to the 5-digit ZIP (``23220-1234``,
``232201234``, ``23220`` → ``23220``). Leading zeros are kept, and restored when a numeric
column dropped them, whether the value arrives as a number or as text: 3 or 4 digits
(``2134`` → ``02134``; ``601`` → ``00601``, Puerto Rico), 7 or 8 digits as a ZIP+4 that
lost its zeros (``21341234`` → ``02134``); a float column's ``23220.0`` is read as
``23220``. ZIP3 prefix ``000`` is never assigned, so ``00000`` and friends →
``INVALID_POSTAL_CODE``.

``any``: up to 10 upper-case letters and digits, separators removed (``SW1A 1AA`` →
``SW1A1AA``, ``2600`` → ``2600``), for non-US data such as FEBRL's Australian postcodes.
Nothing is padded: a dropped zero cannot be restored without knowing the country.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from protocol.identity import MissingReason
from protocol.normalize.result import (
    DEFAULT_OPTIONS,
    NormalizationOptions,
    Normalized,
    PostalCodeFormat,
)
from protocol.normalize.text import MAX_RAW_CHARS, coerce_text, fold

MAX_ANY_POSTAL_CODE: Final = 10

# ZIP, optional +4; or a ZIP that went through a float column and came back as "23220.0".
_ZIP: Final = re.compile(r"([0-9]{3,5})(?:\s*-?\s*[0-9]{4}|\.0+)?")
_PLUS4: Final = re.compile(r"([0-9]{5})-?[0-9]{4}", re.ASCII)
_NOT_ALNUM: Final = re.compile(r"[^A-Z0-9]+")


def normalize_postal_code(
    value: object, options: NormalizationOptions = DEFAULT_OPTIONS
) -> Normalized[str]:
    """Normalise a postal code per ``options.postal_code_format`` (see the module
    docstring). Not a ZIP → ``UNPARSEABLE``; all zeros → ``INVALID_POSTAL_CODE``.
    Never raises."""
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        fmt = options.postal_code_format
        if fmt == "us" and len(value) > 5:
            # ZIP+4 values are nearly unique; key the cache on the ZIP they reduce to.
            plus4 = _PLUS4.fullmatch(value)
            if plus4:
                return _postal_from_text(plus4[1], fmt)
        return _postal_from_text(value, fmt)
    text = coerce_text(value)
    if isinstance(text, MissingReason):
        return Normalized.missing(text)
    return _postal_from_text(text, options.postal_code_format)


@functools.lru_cache(maxsize=1 << 16)
def _postal_from_text(text: str, fmt: PostalCodeFormat) -> Normalized[str]:
    folded = fold(text).strip()
    if not folded:
        return Normalized.missing(MissingReason.ABSENT)
    if fmt == "any":
        code = _NOT_ALNUM.sub("", folded)
        if not code or len(code) > MAX_ANY_POSTAL_CODE:
            return Normalized.missing(MissingReason.UNPARSEABLE)
        if not code.strip("0"):
            return Normalized.missing(MissingReason.INVALID_POSTAL_CODE)
        return Normalized.ok(code)
    match = _ZIP.fullmatch(folded)
    if match is None:
        return Normalized.missing(MissingReason.UNPARSEABLE)
    zip5 = match[1].zfill(5)
    if zip5.startswith("000"):
        return Normalized.missing(MissingReason.INVALID_POSTAL_CODE)
    return Normalized.ok(zip5)
