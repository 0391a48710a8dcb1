"""The salts a node's Bloom filters are keyed with: stable values of the record itself.

Two records' filters compare only when they share a salt (``protocol.salted_bloom``), so
each salt is a value that one person's records in two agencies usually share and that few
other people share (``docs/privacy.md`` measures why groups must stay small):

``dob``
    the birth date with day and month in order (1990, 3, 7 for 03/07 and 07/03), so a
    day/month swap keeps it (:func:`dob_salt_ids`);
``house``
    the postal code's digits in order and the house number;
``street``
    the postal code's digits in order and the street name's first three letters;
``place``
    the city, the house number and the street prefix (a postal-code typo keeps it).

Name filters are also salted with the value's first letter (added in the AES block, see
``protocol.salted_bloom``), so a birth-date group — ~300 people of a 10-million-person
state — is split into groups of a few dozen at most.

A salt reaches the encoder as a 64-bit id per record: the birth date is its own id
(:func:`dob_salt_ids`); a household salt mixes BLAKE2b ids of its parts
(:func:`household_salts`). Only distinctness matters, since the AES key keeps it secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

from protocol.columns import IdentityColumns
from protocol.token_parts import house_number_part, street_prefix_part

#: The name fields: shipped under every salt, their salts holding the value's initial.
NAME_FIELDS: Final = ("first_name", "last_name", "middle_name", "first_name_as_last")
#: Household salts → the fields also shipped under each, as ``bf_<field><suffix>``
#: columns (the birth-date salt carries every field as ``bf_<field>``). The address under
#: the street salt: the addresses of one street in one ZIP, which differ only in their
#: house numbers; a hub that isolated such a group would learn which bits the street's
#: bigrams set in it, not which street it is.
HOUSEHOLD_SALTS: Final = MappingProxyType(
    {
        "__house": (*NAME_FIELDS, "address"),
        "__street": (*NAME_FIELDS, "address"),
        "__place": ("first_name", "last_name", "address"),
    }
)
SALT_SUFFIXES: Final = tuple(HOUSEHOLD_SALTS)

U64Array = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]


def zip_key(postal_code: str) -> str:
    """The postal code's characters in order: ``23220`` and ``22320`` give one key, so a
    transposed ZIP — the commonest ZIP typo — keeps the household salts. The few other
    ZIPs of a state with the same digits widen a house-number group to a handful of
    places."""
    return "".join(sorted(postal_code))


def dob_salt_ids(dobs: Sequence[dt.date | None]) -> tuple[U64Array, BoolArray]:
    """The birth-date salt of each record as an id and its presence: year, then day and
    month in order (swap-invariant). Small enough to be its own id (tagged in the top
    bits, so it meets a household id only by a 2⁻⁶⁴ chance)."""
    ids = np.zeros(len(dobs), dtype=np.uint64)
    present = np.zeros(len(dobs), dtype=np.bool_)
    for i, dob in enumerate(dobs):
        if dob is not None:
            low, high = sorted((dob.month, dob.day))
            ids[i] = _DOB_TAG | (dob.year * 10_000 + low * 100 + high)
            present[i] = True
    return ids, present


_DOB_TAG: Final = 0xD0B << 52


def _component_ids(values: Sequence[str | bytes | None], tag: bytes) -> U64Array:
    """A 64-bit id per value (0 where missing or empty): the first 8 bytes of BLAKE2b of
    ``tag ‖ value``, computed once per distinct value (ZIPs, house numbers, streets and
    cities repeat a lot)."""
    ids: dict[str | bytes | None, int] = {None: 0, "": 0, b"": 0}
    for value in dict.fromkeys(values):
        if value is not None and value not in ids:
            raw = value.encode() if isinstance(value, str) else value
            digest = hashlib.blake2b(tag + raw, digest_size=8).digest()
            ids[value] = int.from_bytes(digest, "little") | 1  # never 0
    return np.fromiter(map(ids.__getitem__, values), dtype=np.uint64, count=len(values))


#: Odd multipliers that mix component ids into one salt id (with the salt kind's tag).
_MIX: Final = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)
_KIND_TAG: Final = {"__house": 0x484F555345, "__street": 0x535452454554, "__place": 0x504C414345}


def _combine(kind: str, parts: Sequence[U64Array]) -> tuple[U64Array, BoolArray]:
    present = np.logical_and.reduce([p != 0 for p in parts])
    ids = np.full(len(present), _KIND_TAG[kind], dtype=np.uint64)
    for multiplier, part in zip(_MIX, parts, strict=False):
        ids ^= part * np.uint64(multiplier)
    ids[~present] = 0
    return ids, present


def household_salts(
    postal_codes: Sequence[str | None],
    cities: Sequence[str | None],
    houses: Sequence[bytes],
    streets: Sequence[bytes],
) -> dict[str, tuple[U64Array, BoolArray]]:
    """The household salts of each record, as ids and presence, by suffix of
    :data:`HOUSEHOLD_SALTS`: ``__house`` the ZIP's digits in order and the house number;
    ``__street`` the ZIP's digits in order and the street prefix; ``__place`` the city,
    the house number and the street prefix. A salt is present only when all its parts
    are. Ids of different kinds or parts meet only by a 2⁻⁶⁴ chance."""
    zips = [None if z is None else zip_key(z) for z in postal_codes]
    zip_ids = _component_ids(zips, b"zip|")
    house_ids = _component_ids(houses, b"house|")
    street_ids = _component_ids(streets, b"street|")
    city_ids = _component_ids(cities, b"city|")
    return {
        "__house": _combine("__house", (zip_ids, house_ids)),
        "__street": _combine("__street", (zip_ids, street_ids)),
        "__place": _combine("__place", (city_ids, house_ids, street_ids)),
    }


def record_salts(
    batch: IdentityColumns,
    houses: Sequence[bytes] | None = None,
    streets: Sequence[bytes] | None = None,
) -> dict[str, tuple[U64Array, BoolArray]]:
    """Every salt of every record of ``batch``: ``""`` for the birth date, then each
    suffix of :data:`HOUSEHOLD_SALTS`. ``houses`` and ``streets`` are the records'
    :func:`~protocol.token_parts.house_number_part` and
    :func:`~protocol.token_parts.street_prefix_part` when the caller has them already."""
    if houses is None:
        houses = list(map(house_number_part, batch.street_address))
    if streets is None:
        streets = list(map(street_prefix_part, batch.street_address))
    salts = {"": dob_salt_ids(batch.dob)}
    salts.update(household_salts(batch.postal_code, batch.city, houses, streets))
    return salts
