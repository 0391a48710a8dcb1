"""Turning an arbitrary cell value into text, and text into upper-case ASCII.

Agency extracts arrive through CSV readers, database drivers and pandas, so a "name" can be
a ``str``, ``bytes`` from a legacy driver, an ``int`` or ``float`` from a numeric column,
``float('nan')`` or ``pandas.NA`` for a missing cell. :func:`coerce_text` reduces all of
them to stripped text or a :class:`~protocol.identity.MissingReason`, so the field
normalisers only ever deal with ``str``.
"""

from __future__ import annotations

import functools
import math
import numbers
import unicodedata
from decimal import Decimal
from typing import Final

from protocol.identity import MissingReason

#: Longest stripped text any field normaliser looks at. No identity field is this long;
#: refusing early keeps pathological cells (a whole document pasted in a name) cheap and
#: out of the caches.
MAX_RAW_CHARS: Final = 256

# pandas' missing-value singletons, recognised by type name so protocol need not import
# pandas. Both are "the cell is empty", not a value.
_NULL_TYPE_NAMES: Final = frozenset({"NAType", "NaTType"})

# Letters NFKD does not decompose, and punctuation that must survive as ASCII so that name
# and address rules see the same separators whatever keyboard typed them.
_SPECIAL: Final = str.maketrans(
    {
        "ß": "SS",
        "ẞ": "SS",
        "Æ": "AE",
        "æ": "AE",
        "Œ": "OE",
        "œ": "OE",
        "Ø": "O",
        "ø": "O",
        "Ł": "L",
        "ł": "L",
        "Đ": "D",
        "đ": "D",
        "Ð": "D",
        "ð": "D",
        "Þ": "TH",
        "þ": "TH",
        "Ħ": "H",
        "ħ": "H",
        "ı": "I",
        "ĸ": "K",
        "Ŋ": "NG",
        "ŋ": "NG",
        "Ŧ": "T",
        "ŧ": "T",
        "ſ": "S",
        "ƒ": "F",
        # Apostrophe look-alikes: O’Brien must behave exactly like O'Brien.
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "ʹ": "'",
        "′": "'",
        "´": "'",
        "`": "'",
    }
)


def coerce_text(value: object) -> str | MissingReason:
    """The stripped text of ``value``, or why it has none. Never raises.

    ``None``, NaN, ``pandas.NA``/``NaT`` and blank text are ``ABSENT``; integral numbers
    become their digits (``2134.0`` → ``"2134"``, as numeric columns hold codes); bytes are
    decoded as UTF-8, else Latin-1; booleans and other objects are ``UNPARSEABLE`` (they are
    a mapping mistake, and ``str()`` of them would invent letters); stripped text longer
    than :data:`MAX_RAW_CHARS` is ``TOO_LONG``.
    """
    if isinstance(value, str):
        text = value if type(value) is str else str.__str__(value)
    elif value is None:
        return MissingReason.ABSENT
    else:
        converted = _non_text(value)
        if isinstance(converted, MissingReason):
            return converted
        text = converted
    text = text.strip()
    if not text:
        return MissingReason.ABSENT
    if len(text) > MAX_RAW_CHARS:
        return MissingReason.TOO_LONG
    return text


def _non_text(value: object) -> str | MissingReason:
    if isinstance(value, bool):
        return MissingReason.UNPARSEABLE
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(value)
        except (TypeError, ValueError, BufferError):
            return MissingReason.UNPARSEABLE
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            # Legacy agency systems export Latin-1/CP1252; Latin-1 decodes any byte.
            return raw.decode("latin-1")
    if isinstance(value, numbers.Integral):
        try:
            return str(int(value))
        except (ValueError, TypeError, OverflowError):
            # Python refuses to print ints beyond 4,300 digits: no field is that long.
            return MissingReason.TOO_LONG
    if isinstance(value, Decimal):
        if value.is_nan():
            return MissingReason.ABSENT
        if not value.is_finite():
            return MissingReason.UNPARSEABLE
        if value.adjusted() > 64:
            # int() of Decimal('1E999999999') would build a billion-digit number.
            return MissingReason.TOO_LONG
        return _number_text(value)
    if isinstance(value, numbers.Real):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return MissingReason.UNPARSEABLE
        if math.isnan(number):
            return MissingReason.ABSENT
        if math.isinf(number):
            return MissingReason.UNPARSEABLE
        return _number_text(number)
    if type(value).__name__ in _NULL_TYPE_NAMES:
        return MissingReason.ABSENT
    return MissingReason.UNPARSEABLE


def _number_text(number: float | Decimal) -> str:
    # A float column holding ZIPs or SSNs prints 2134.0; the code is the integer part.
    # (Callers bound the magnitude, so int() and str() cannot fail here.)
    integral = int(number)
    return str(integral) if number == integral else str(number)


def fold(text: str) -> str:
    """Upper-case ASCII form of ``text``: NFKD, accents stripped, special letters spelled
    out (ß → SS, Ø → O, Æ → AE), other scripts dropped.

    Non-ASCII separators and punctuation (dashes, no-break and ideographic spaces) become a
    space rather than vanishing, so ``GARCÍA–LÓPEZ`` keeps its two parts.
    """
    if text.isascii():
        return text.upper().replace("`", "'")
    decomposed = unicodedata.normalize("NFKD", text).translate(_SPECIAL)
    return "".join(c if c.isascii() else _fold_char(c) for c in decomposed).upper()


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    category = unicodedata.category(char)
    if category[0] in "ZP" or category == "Cc":
        # Separators, punctuation and control characters separate words.
        return " "
    # Combining marks (the stripped accents), symbols, letters of other scripts, and
    # invisible format characters (zero-width joiners, soft hyphens) inside a word.
    return ""
