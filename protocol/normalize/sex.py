"""Sex codes.

``M``/``MALE``/``1`` → :attr:`Sex.MALE`; ``F``/``FEMALE``/``2`` → :attr:`Sex.FEMALE`;
``X``/``NONBINARY``/``OTHER`` → :attr:`Sex.OTHER`. The numeric codes follow ISO/IEC 5218
(1 male, 2 female, 0 not known, 9 not applicable), which is also what the US Census and
most state student systems export. ``U``/``UNKNOWN``/``0``/``9`` are stand-ins for an
unrecorded value → ``PLACEHOLDER``; blank → ``ABSENT``; anything else → ``UNKNOWN_CODE``.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from protocol.identity import MissingReason, Sex
from protocol.normalize.result import Normalized
from protocol.normalize.text import MAX_RAW_CHARS, coerce_text, fold

SEX_CODES: Final[dict[str, Sex]] = {
    "M": Sex.MALE,
    "MALE": Sex.MALE,
    "1": Sex.MALE,
    "F": Sex.FEMALE,
    "FEMALE": Sex.FEMALE,
    "2": Sex.FEMALE,
    "X": Sex.OTHER,
    "NONBINARY": Sex.OTHER,
    "NB": Sex.OTHER,
    "OTHER": Sex.OTHER,
}

_PLACEHOLDERS: Final = frozenset(
    {"U", "UNK", "UNKNOWN", "0", "9", "NOTKNOWN", "NOTSTATED", "DECLINED", "NA", "NONE"}
)

_NOT_ALNUM: Final = re.compile(r"[^A-Z0-9]+")

# Results are shared: there are only a handful of distinct outcomes.
_OK: Final = {sex: Normalized.ok(sex) for sex in Sex}
_PLACEHOLDER: Final[Normalized[Sex]] = Normalized.missing(MissingReason.PLACEHOLDER)
_UNKNOWN: Final[Normalized[Sex]] = Normalized.missing(MissingReason.UNKNOWN_CODE)


def normalize_sex(value: object) -> Normalized[Sex]:
    """Normalise a sex code to :class:`~protocol.identity.Sex` (see the module docstring
    for the codes). Case, spaces and punctuation are ignored (``non-binary``). Never
    raises."""
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        return _sex_from_text(value)
    text = coerce_text(value)
    if isinstance(text, MissingReason):
        return Normalized.missing(text)
    return _sex_from_text(text)


@functools.lru_cache(maxsize=1024)
def _sex_from_text(text: str) -> Normalized[Sex]:
    if not text or text.isspace():
        return Normalized.missing(MissingReason.ABSENT)
    code = _NOT_ALNUM.sub("", fold(text))
    sex = SEX_CODES.get(code)
    if sex is not None:
        return _OK[sex]
    if code in _PLACEHOLDERS:
        return _PLACEHOLDER
    return _UNKNOWN
