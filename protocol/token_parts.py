"""The framed parts a token is made of, for a whole batch of identities at once.

:mod:`protocol.tokens` joins these into MAC inputs. Every value is framed once
(:func:`framed`, netstring-style like :func:`protocol.keys.frame`) and every name coded
once (initial, prefixes, NYSIIS, Soundex): names, dates and ZIPs repeat enormously across
records, so the codes are cached per distinct value (bounded caches: a node's memory does
not grow with its population). Phonetic codes come from ``jellyfish``; every node of a
federation must run the same version.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from operator import itemgetter
from typing import Final

import jellyfish
import numpy as np
import numpy.typing as npt

from protocol.columns import IdentityColumns
from protocol.identity import Sex
from protocol.token_rules import MIN_MIDDLE_NAME_AS_FIRST

PREFIX_LEN: Final = 2
PREFIX3_LEN: Final = 3

#: Framed (name, initial, 2-letter prefix, NYSIIS, Soundex, 3-letter prefix) of one name.
NameParts = tuple[bytes, bytes, bytes, bytes, bytes, bytes]
#: Framed (dob, birth month, birth year, swapped dob or b"") of one birth date.
DateParts = tuple[bytes, bytes, bytes, bytes]

# Stand-ins for a missing value: every column holds bytes, and a separate mask says what
# is present, so messages can be joined by C-level map() over whole columns.
NO_NAME: Final[NameParts] = (b"", b"", b"", b"", b"", b"")
NO_DATE: Final[DateParts] = (b"", b"", b"", b"")


def framed(value: str) -> bytes:
    """``frame((value,))`` as UTF-8, inlined: it runs for every distinct value."""
    return f"{len(value)}:{value},".encode()


# Names, dates and ZIPs repeat enormously across records: frame and code each distinct
# value once. Bounded, so a node's memory does not grow with its population.
@lru_cache(maxsize=1 << 16)
def name_parts(name: str) -> NameParts:
    return (
        framed(name),
        framed(name[0]),
        framed(name[:PREFIX_LEN]),
        framed(str(jellyfish.nysiis(name))),
        framed(str(jellyfish.soundex(name))),
        framed(name[:PREFIX3_LEN]),
    )


@lru_cache(maxsize=1 << 15)
def date_parts(dob: dt.date) -> DateParts:
    iso = dob.isoformat()
    swapped = b""
    if dob.day <= 12 and dob.day != dob.month:
        # Always a valid date: both the new month and the new day are <= 12.
        swapped = framed(dt.date(dob.year, dob.day, dob.month).isoformat())
    return framed(iso), framed(iso[:7]), framed(iso[:4]), swapped


@lru_cache(maxsize=1 << 14)
def postal_part(postal_code: str) -> bytes:
    """The postal code's characters in order (``23220`` → ``02223``): a transposed ZIP,
    the commonest ZIP typo, keeps its tokens; a state's few other ZIPs with the same
    digits leave a ZIP-bearing token about as specific as a household."""
    return framed("".join(sorted(postal_code)))


def street_prefix_part(street: str | None) -> bytes:
    """The first 3 letters of the street name: the first word of the normalised street
    address with at least 2 letters (``424 CLARK ST`` → ``CLA``, ``N MAIN ST`` → ``MAI``);
    ``b""`` when there is none."""
    if not street:
        return b""
    for word in street.split(" "):
        if len(word) >= 2 and word[0].isalpha() and word[1].isalpha():
            return framed(word[:3])
    return b""


def house_number_part(street: str | None) -> bytes:
    """The house number: the leading digits of the normalised street address's first word
    (``424 CLARK ST`` → ``424``, ``12A OAK AVE`` → ``12``); ``b""`` when there is none
    (``PO BOX 12``, ``MAIN ST``)."""
    if not street or not street[0].isdigit():
        return b""
    word = street.split(" ", 1)[0]
    if not word.isdigit():
        word = word[: len(word) - len(word.lstrip("0123456789"))]
    return framed(word)


#: Keyed by the one-letter code (a :class:`Sex` member is equal to its code).
SEX_PARTS: Final[dict[str | None, bytes]] = {None: b"", **{x.value: framed(x.value) for x in Sex}}


#: Where each part comes from: (source, index into the source's bundle of framed values).
PART_SOURCES: Final = {
    "first": ("first", 0),
    "first_initial": ("first", 1),
    "first_prefix": ("first", 2),
    "first_phonetic": ("first", 3),
    "first_soundex": ("first", 4),
    "first_prefix3": ("first", 5),
    "last": ("last", 0),
    "last_initial": ("last", 1),
    "last_prefix": ("last", 2),
    "last_phonetic": ("last", 3),
    "last_soundex": ("last", 4),
    "last_prefix3": ("last", 5),
    "dob": ("dob", 0),
}

BoolArray = npt.NDArray[np.bool_]
#: Per record, the bundles of its alternative values (e.g. one NameParts per alternative
#: first name); a part's variant is ``bundle[index]``.
Alternatives = dict[int, tuple[tuple[bytes, ...], ...]]


def mask(values: list[bytes]) -> BoolArray:
    return np.fromiter(map(bool, values), dtype=np.bool_, count=len(values))


# Cached: the same (first, middle, nicknames) triples recur across records.
@lru_cache(maxsize=1 << 16)
def first_alternatives(
    first: str, middle: str | None, canonical: tuple[str, ...]
) -> tuple[NameParts, ...]:
    """Framed parts of the names that may stand in for a first name: its nickname
    canonical forms and the middle name (when it is a name, not an initial)."""
    if middle and (len(middle) < MIN_MIDDLE_NAME_AS_FIRST or middle == first):
        middle = None
    if canonical:
        names = (*canonical, middle) if middle else canonical
        return tuple(name_parts(n) for n in names if n)
    return (name_parts(middle),) if middle else ()


def framed_or_empty(values: list[str | None]) -> list[bytes]:
    return [framed(v) if v else b"" for v in values]


class Columns:
    """The framed parts of a batch of identities, column by column.

    ``primary[part][i]`` is record ``i``'s primary value of ``part`` (``b""`` when
    missing, with ``present[part][i]`` False); ``alternatives[source]`` holds the variant
    bundles of the records that have any. Working by column lets C-level ``map`` do most
    of the per-record work.
    """

    __slots__ = ("alternatives", "present", "primary")

    def __init__(self, batch: IdentityColumns) -> None:
        firsts = [name_parts(x) if x else NO_NAME for x in batch.first_name]
        lasts = [name_parts(x) if x else NO_NAME for x in batch.last_name]
        dates = [date_parts(x) if x is not None else NO_DATE for x in batch.dob]
        primary: dict[str, list[bytes]] = {}
        for part, (source, j) in PART_SOURCES.items():
            bundles = firsts if source == "first" else lasts if source == "last" else dates
            primary[part] = list(map(itemgetter(j), bundles))
        primary["birth_month"] = list(map(itemgetter(1), dates))
        primary["birth_year"] = list(map(itemgetter(2), dates))
        primary["sex"] = [SEX_PARTS.get(x, b"") for x in batch.sex]  # unknown code: missing
        primary["ssn"] = framed_or_empty(batch.ssn)
        primary["postal_code"] = [postal_part(x) if x else b"" for x in batch.postal_code]
        primary["house_number"] = list(map(house_number_part, batch.street_address))
        primary["street_prefix3"] = list(map(street_prefix_part, batch.street_address))
        by_source = {s: mask(primary[s]) for s in ("first", "last", "dob")}
        self.present: dict[str, BoolArray] = {
            **{part: by_source[source] for part, (source, _) in PART_SOURCES.items()},
            "birth_month": by_source["dob"],
            "birth_year": by_source["dob"],
            **{
                d: mask(primary[d])
                for d in ("sex", "ssn", "postal_code", "house_number", "street_prefix3")
            },
        }
        self.primary = primary
        rows = zip(batch.first_name, batch.middle_name, batch.first_name_canonical, strict=True)
        self.alternatives: dict[str, Alternatives] = {
            "first": {
                i: alternatives
                for i, (first, middle, canonical) in enumerate(rows)
                if first and (middle or canonical)
                and (alternatives := first_alternatives(first, middle, canonical))
            },
            "last": {
                i: tuple(name_parts(p) for p in parts if p)
                for i, (last, parts) in enumerate(
                    zip(batch.last_name, batch.last_name_parts, strict=True)
                )
                if parts and last
            },
            "dob": {i: ((d[3],),) for i, d in enumerate(dates) if d[3]},
        }


