"""Given names, surnames and generational suffixes.

A normalised name is upper-case ASCII letters only: accents stripped, punctuation, digits
and spaces removed (``O'Brien`` → ``OBRIEN``, ``Mary Ann`` → ``MARYANN``). Surnames also
yield their compound parts and any generational suffix written inside them
(``García-López Jr.`` → ``GARCIALOPEZ``, ``(GARCIA, LOPEZ)``, ``JR``). The decisions and
their reasons are in ``docs/normalisation.md``.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from protocol.identity import MissingReason
from protocol.normalize.result import Normalized
from protocol.normalize.text import MAX_RAW_CHARS, coerce_text, fold

#: Longest normalised name accepted; longer values are concatenated free text, not a name.
MAX_NAME_LETTERS: Final = 60

Surname = tuple[str, tuple[str, ...], str | None]

#: Generational suffixes in the spellings agencies use, to the canonical code.
SUFFIXES: Final[dict[str, str]] = {
    "JR": "JR",
    "JNR": "JR",
    "JUNIOR": "JR",
    "SR": "SR",
    "SNR": "SR",
    "SENIOR": "SR",
    "II": "II",
    "2ND": "II",
    "2D": "II",
    "III": "III",
    "3RD": "III",
    "3D": "III",
    "IV": "IV",
    "4TH": "IV",
    "V": "V",
    "5TH": "V",
}

#: Stand-ins written where the name was not known, compared on the compact letters form
#: (so ``N.F.N.``, ``Baby Boy`` and ``baby-boy`` all hit). ``NA`` is deliberately absent:
#: Na is a Korean surname.
NAME_PLACEHOLDERS: Final = frozenset(
    {
        "UNKNOWN",
        "UNK",
        "UNKN",
        "NONE",
        "NULL",
        "NFN",
        "NLN",
        "NMN",
        "FNU",
        "LNU",
        "MNU",
        "NONAME",
        "NOFIRSTNAME",
        "NOLASTNAME",
        "NOMIDDLENAME",
        "TEST",
        "BABY",
        "BABYBOY",
        "BABYGIRL",
        "NOTGIVEN",
        "REFUSED",
    }
)

#: Suffix-field values meaning "no suffix" rather than an unknown code.
_SUFFIX_PLACEHOLDERS: Final = frozenset({"NONE", "NULL", "NA", "UNKNOWN", "UNK", "X"})

#: Surname particles joined to the part after them, so ``de la Cruz`` is one part
#: ``DELACRUZ`` rather than three tokens of which two match half the population.
PARTICLES: Final = frozenset(
    {
        "AL", "EL", "ABU", "BIN", "BINT", "IBN",
        "D", "DA", "DAL", "DALLA", "DAS", "DE", "DEGLI", "DEI", "DEL", "DELA", "DELLA",
        "DELLE", "DELLO", "DEN", "DER", "DES", "DI", "DO", "DOS", "DU",
        "LA", "LE", "LES", "LO",
        "MAC", "MC", "O",
        "SAN", "SANTA", "SAINT", "ST", "STE",
        "TE", "TEN", "TER", "VAN", "VANDER", "VANDEN", "VON", "ZU",
    }
)  # fmt: skip

#: Conjunctions of Spanish and Portuguese double surnames (``García y López``). Dropped
#: between two parts, so ``García y López`` and ``García-López`` agree on ``GARCIALOPEZ``.
_CONNECTORS: Final = frozenset({"Y", "E"})

_NOT_LETTERS: Final = re.compile(r"[^A-Z]+")
_WORDS: Final = re.compile(r"[A-Z0-9]+")
# Distinct names in a million-record extract: tens of thousands of given names, a few
# hundred thousand surnames at most; the caches hold the heavy head of the distribution
# (and bound memory: see docs/normalisation.md).
_GIVEN_CACHE_SIZE: Final = 1 << 16
_SURNAME_CACHE_SIZE: Final = 1 << 17
_ABSENT: Final[Normalized[str]] = Normalized.missing(MissingReason.ABSENT)


def normalize_given_name(value: object) -> Normalized[str]:
    """Normalise a given (first or middle) name to upper-case ASCII letters.

    ``José`` → ``JOSE``; ``Mary Ann`` → ``MARYANN``; placeholders (``UNKNOWN``, ``NFN``,
    ``Baby Girl``, ``X``) → ``PLACEHOLDER``; nothing but digits or punctuation →
    ``NO_LETTERS``; more than 60 letters → ``TOO_LONG``. Never raises.
    """
    # Fast path: a plain string goes straight to the cache, keyed by the raw text.
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        return _given_from_text(value)
    text = coerce_text(value)
    if isinstance(text, MissingReason):
        return Normalized.missing(text)
    return _given_from_text(text)


@functools.lru_cache(maxsize=_GIVEN_CACHE_SIZE)
def _given_from_text(text: str) -> Normalized[str]:
    if not text or text.isspace():
        return _ABSENT
    return _check_name(_NOT_LETTERS.sub("", fold(text)))


def _check_name(letters: str) -> Normalized[str]:
    if not letters:
        return Normalized.missing(MissingReason.NO_LETTERS)
    if letters in NAME_PLACEHOLDERS or not letters.strip("X"):
        return Normalized.missing(MissingReason.PLACEHOLDER)
    if len(letters) > MAX_NAME_LETTERS:
        return Normalized.missing(MissingReason.TOO_LONG)
    return Normalized.ok(letters)


def normalize_surname(value: object) -> Normalized[Surname]:
    """Normalise a surname to ``(compact, parts, suffix)``.

    ``compact`` is the letters-only form (``GARCIALOPEZ``); ``parts`` the compound parts
    when there are at least two (``("GARCIA", "LOPEZ")``, else ``()``), particles joined to
    the part that follows them (``Garcia de la Cruz`` → ``("GARCIA", "DELACRUZ")``) and
    ``y``/``e`` between parts dropped (``García y López`` → ``GARCIALOPEZ``), so that
    ``compact == "".join(parts)`` whenever there are parts; ``suffix`` the generational
    suffix written as the last word (``Smith Jr.`` → ``JR``), else ``None``. Missing
    reasons as for :func:`normalize_given_name`. Never raises.
    """
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        return _surname_from_text(value)
    text = coerce_text(value)
    if isinstance(text, MissingReason):
        return Normalized.missing(text)
    return _surname_from_text(text)


@functools.lru_cache(maxsize=_SURNAME_CACHE_SIZE)
def _surname_from_text(text: str) -> Normalized[Surname]:
    if not text or text.isspace():
        return Normalized.missing(MissingReason.ABSENT)
    # Apostrophes join (O'Brien is one word); every other non-alphanumeric separates.
    # Words without letters (a stray "42") carry nothing and must not hide a suffix.
    tokens = [t for t in _WORDS.findall(fold(text).replace("'", "")) if not t.isdigit()]
    suffix: str | None = None
    # A suffix only counts after a name word: a surname that *is* "V" or "Ii" stays.
    if len(tokens) >= 2:
        last = tokens[-1]
        suffix = SUFFIXES.get(last) or SUFFIXES.get(_NOT_LETTERS.sub("", last))
        if suffix is not None:
            tokens.pop()
    groups = _groups([_NOT_LETTERS.sub("", t) for t in tokens])
    checked = _check_name("".join(groups))
    if checked.value is None:
        return Normalized.missing(checked.reason or MissingReason.NO_LETTERS)
    return Normalized.ok((checked.value, tuple(groups) if len(groups) >= 2 else (), suffix))


def _groups(words: list[str]) -> list[str]:
    """The surname's parts: particles joined to the next word, connectors dropped.

    Repeated until stable, because a join can itself spell a particle (``D E`` → ``DE``):
    the parts must regroup to themselves, or writing them back out (``DE-GARCIA``) would
    normalise differently from the original.
    """
    while True:
        grouped = _group_once(words)
        if len(grouped) == len(words):
            return grouped
        words = grouped


def _group_once(words: list[str]) -> list[str]:
    parts: list[str] = []
    pending = ""
    last = len(words) - 1
    for i, word in enumerate(words):
        if i < last:
            if word in PARTICLES:
                pending += word
                continue
            if word in _CONNECTORS and parts and not pending:
                continue
        parts.append(pending + word)
        pending = ""
    return parts


def normalize_suffix(value: object) -> Normalized[str]:
    """Normalise a generational suffix to ``JR``, ``SR``, ``II``, ``III``, ``IV`` or ``V``.

    ``Jr.``, ``Junior`` → ``JR``; ``2nd`` → ``II``; ``3rd`` → ``III``. ``None``/``N/A`` →
    ``PLACEHOLDER``; professional suffixes (``MD``, ``PhD``, ``Esq``) and anything else →
    ``UNKNOWN_CODE``: they do not distinguish generations. Never raises.
    """
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        return _suffix_from_text(value)
    text = coerce_text(value)
    if isinstance(text, MissingReason):
        return Normalized.missing(text)
    return _suffix_from_text(text)


@functools.lru_cache(maxsize=1024)
def _suffix_from_text(text: str) -> Normalized[str]:
    if not text or text.isspace():
        return _ABSENT
    code = "".join(_WORDS.findall(fold(text)))
    if not code:
        return Normalized.missing(MissingReason.NO_LETTERS)
    canonical = SUFFIXES.get(code)
    if canonical is not None:
        return Normalized.ok(canonical)
    if code in _SUFFIX_PLACEHOLDERS:
        return Normalized.missing(MissingReason.PLACEHOLDER)
    return Normalized.missing(MissingReason.UNKNOWN_CODE)
