"""Nickname canonicalisation: the formal given names a nickname may stand for.

Built once, lazily, from the ``nicknames`` package (Old Dominion University's curated
nickname list, ``canonical has_nickname nickname`` pairs). That list is a relation, not a
function: ``BILL`` is a nickname of ``WILLIAM``, ``ROBERT``, ``WILLIS`` and even ``WILL``,
and some pairs appear in both directions. Tokens need a short, deterministic answer, so:

1. **Commonness order** — names in :data:`~protocol.normalize._name_ranks.POPULAR_GIVEN_NAMES`
   (US SSA popularity, 1960s–1990s births) first, most popular first; then longer names
   before shorter ones (formal forms are the long ones: ``ELIZABETH``/``LIZ``); then
   alphabetical.
2. A name is **formal** when the list never calls it a nickname, or when it comes before
   every name it could be a nickname of (``JOHN`` outranks ``JONATHAN``; ``LARRY`` was
   given more often than ``LAWRENCE`` in those decades, so it stays itself).
3. A nickname's canonical names are its **formal** candidates (all candidates when none
   is formal), the first three in commonness order, returned sorted, never itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Final

from protocol.normalize._name_ranks import POPULAR_GIVEN_NAMES
from protocol.normalize.names import normalize_given_name
from protocol.normalize.text import fold

#: At most this many formal names per nickname: each becomes a token variant, and beyond
#: three the extra names are rare ones that add false-match risk for little recall.
MAX_CANONICALS: Final = 3

_NOT_LETTERS: Final = re.compile(r"[^A-Z]+")
_RANK: Final = {name: rank for rank, name in enumerate(POPULAR_GIVEN_NAMES)}
_UNRANKED: Final = len(POPULAR_GIVEN_NAMES)


def canonical_first_names(name: str) -> tuple[str, ...]:
    """The formal given names ``name`` is a nickname of, sorted, at most three.

    ``BILL`` → ``("ROBERT", "WILLIAM", "WILLIS")``; ``Peggy`` → ``("MARGARET", …)``.
    Empty when ``name`` is already formal (``WILLIAM``, ``JOHN``), unknown, or not a
    usable name. ``name`` may be raw or normalised; it is normalised first. Never raises.
    """
    normalized = normalize_given_name(name).value
    if normalized is None:
        return ()
    return _canonical_table().get(normalized, ())


def canonicals_of_normalized(name: str) -> tuple[str, ...]:
    """:func:`canonical_first_names` for a name already normalised by
    :func:`~protocol.normalize.names.normalize_given_name` (skips normalising again)."""
    return _canonical_table().get(name, ())


def _commonness(name: str) -> tuple[int, int, str]:
    return (_RANK.get(name, _UNRANKED), -len(name), name)


@functools.cache
def _canonical_table() -> Mapping[str, tuple[str, ...]]:
    # Imported here so that importing protocol.normalize does not read the CSV.
    from nicknames import NickNamer

    formal_of: dict[str, set[str]] = {}
    for nickname, formals in NickNamer().canonical_lookup.items():
        key = _NOT_LETTERS.sub("", fold(nickname))
        cleaned = {_NOT_LETTERS.sub("", fold(f)) for f in formals} - {key, ""}
        if key and cleaned:
            formal_of.setdefault(key, set()).update(cleaned)

    def is_formal(name: str) -> bool:
        candidates = formal_of.get(name)
        return not candidates or _commonness(name) < min(map(_commonness, candidates))

    table: dict[str, tuple[str, ...]] = {}
    for nickname, candidates in formal_of.items():
        if is_formal(nickname):
            continue
        chosen = [c for c in candidates if is_formal(c)] or list(candidates)
        chosen.sort(key=_commonness)
        table[nickname] = tuple(sorted(chosen[:MAX_CANONICALS]))
    return table
