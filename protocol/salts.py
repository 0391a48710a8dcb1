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

A salt reaches the encoder as a 64-bit id per record (:func:`salt_ids`: the first 8 bytes
of BLAKE2b of the salt; the birth date is its own id, :func:`dob_salt_ids`); only
distinctness matters, since the AES key keeps it secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

from protocol.columns import IdentityColumns
from protocol.token_parts import house_number_part, street_prefix_part

#: The name fields: shipped under every salt, their salts holding the value's initial.
NAME_FIELDS: Final = ("first_name", "last_name", "middle_name", "first_name_as_last")
#: Household salts → the fields also shipped under each, as ``bf_<field><suffix>``
#: columns (the birth-date salt carries every field as ``bf_<field>``). The address is
#: not shipped per street: a long street's addresses would be a large group.
HOUSEHOLD_SALTS: Final = MappingProxyType(
    {
        "__house": (*NAME_FIELDS, "address"),
        "__street": NAME_FIELDS,
        "__place": ("first_name", "last_name", "address"),
    }
)
SALT_SUFFIXES: Final = tuple(HOUSEHOLD_SALTS)

U64Array = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]


def zip_key(postal_code: str) -> bytes:
    """The postal code's characters in order: ``23220`` and ``22320`` give one key, so a
    transposed ZIP — the commonest ZIP typo — keeps the household salts. The few other
    ZIPs of a state with the same digits widen a house-number group to a handful of
    places."""
    return "".join(sorted(postal_code)).encode()


def house_salt(
    postal_code: str | None, city: str | None, house: bytes, street: bytes
) -> bytes | None:
    """The house salt: postal code and house number, both present, else None."""
    if not postal_code or not house:
        return None
    return b"house|" + zip_key(postal_code) + b"|" + house


def street_salt(
    postal_code: str | None, city: str | None, house: bytes, street: bytes
) -> bytes | None:
    """The street salt: postal code and street prefix, both present, else None."""
    if not postal_code or not street:
        return None
    return b"street|" + zip_key(postal_code) + b"|" + street


def place_salt(
    postal_code: str | None, city: str | None, house: bytes, street: bytes
) -> bytes | None:
    """The place salt: city, house number and street prefix, all present, else None."""
    if not city or not house or not street:
        return None
    return b"place|" + city.encode() + b"|" + house + b"|" + street


SaltOf = Callable[[str | None, str | None, bytes, bytes], bytes | None]
_HOUSEHOLD: Final[dict[str, SaltOf]] = {
    "__house": house_salt,
    "__street": street_salt,
    "__place": place_salt,
}


def salt_ids(salts: Sequence[bytes | None]) -> tuple[U64Array, BoolArray]:
    """A 64-bit id per salt (0 where missing) and where it is present."""
    cache: dict[bytes, int] = {}
    ids = np.zeros(len(salts), dtype=np.uint64)
    present = np.zeros(len(salts), dtype=np.bool_)
    for i, salt in enumerate(salts):
        if salt is None:
            continue
        value = cache.get(salt)
        if value is None:
            digest = hashlib.blake2b(salt, digest_size=8).digest()
            value = cache[salt] = int.from_bytes(digest, "little")
        ids[i] = value
        present[i] = True
    return ids, present


def dob_salt_ids(dobs: Sequence[dt.date | None]) -> tuple[U64Array, BoolArray]:
    """:func:`salt_ids` of :func:`dob_salt` without hashing: the salt is small enough to
    be its own id (tagged in the top bits, so it never meets a hashed household id but
    with probability 2⁻⁶⁴)."""
    ids = np.zeros(len(dobs), dtype=np.uint64)
    present = np.zeros(len(dobs), dtype=np.bool_)
    for i, dob in enumerate(dobs):
        if dob is not None:
            low, high = sorted((dob.month, dob.day))
            ids[i] = _DOB_TAG | (dob.year * 10_000 + low * 100 + high)
            present[i] = True
    return ids, present


_DOB_TAG: Final = 0xD0B << 52


def record_salts(
    batch: IdentityColumns,
    houses: Sequence[bytes] | None = None,
    streets: Sequence[bytes] | None = None,
) -> dict[str, tuple[U64Array, BoolArray]]:
    """Every salt of every record of ``batch``, as :func:`salt_ids`: ``""`` for the birth
    date, then each suffix of :data:`HOUSEHOLD_SALTS`. ``houses`` and ``streets`` are the
    records' :func:`~protocol.token_parts.house_number_part` and
    :func:`~protocol.token_parts.street_prefix_part` when the caller has them already."""
    if houses is None:
        houses = list(map(house_number_part, batch.street_address))
    if streets is None:
        streets = list(map(street_prefix_part, batch.street_address))
    out = {"": dob_salt_ids(batch.dob)}
    for suffix, salt_of in _HOUSEHOLD.items():
        out[suffix] = salt_ids(list(map(salt_of, batch.postal_code, batch.city, houses, streets)))
    return out
