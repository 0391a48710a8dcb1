"""Record-salted, constant-weight keyed Bloom filters: the fuzzy encodings a node ships.

Why (``docs/privacy.md``): a field-level filter that is a function of the value alone is
equal for equal names, so its frequencies line up with public name frequencies, and the
bits a bigram sets are the same in every record, so they can be learnt from frequent
filters (pattern mining). The attack suite (:mod:`fedlink.attack`) recovered 85–91 % of
full names that way. This construction removes both footholds:

1. **Salting with a stable record value** (Niedermeyer et al. 2014; Chen, Schnell,
   Armknecht & Heng 2022). Each bigram's positions are a PRF of the field key, the
   record's *salt* and the bigram, so two records share bit positions only when they share
   the salt. The salt is the date of birth with its day and month put in order
   (``1990|03|07`` for both 1990-03-07 and 1990-07-03, so a day/month swap still
   compares), and optionally a *household* salt (ZIP + house number + street prefix),
   each as its own column. A salt group is one date of birth or one household: a handful
   of people, too few for any frequency to mean anything, and the bits a bigram sets in
   one group say nothing about another. A record without the salt gets no filter (null).
2. **Constant weight.** Every value draws exactly :data:`DRAWS` positions (names;
   :data:`ADDRESS_DRAWS` for addresses), spread over its distinct bigrams: ``T // n`` each,
   one more for the ``T % n`` bigrams with the smallest ids. The number of set bits is then
   the number of distinct positions among ``T`` uniform draws — the same distribution for
   every value, so a filter's weight no longer tells a name's length.
3. **No fold.** The filter is :data:`SALTED_BLOOM_BITS` bits wide as drawn; Dice is
   computed on it directly, as before.

Positions come from AES-256 in ECB mode over blocks ``salt id (8) | bigram (2) | counter
(1) | 0 (5)`` under a per-field key (HKDF-Expand of the project's Bloom sub-key), read as
16-bit words mod 512 (unbiased). AES is a PRP on distinct blocks — a PRF for this use —
and one call encrypts a whole batch's blocks. The salt id is the first 8 bytes of
BLAKE2b(salt kind ‖ value); it only needs to be distinct per salt value, the AES key
keeps it secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from protocol.columns import IdentityColumns
from protocol.errors import EncodingError
from protocol.keys import ProjectKeys
from protocol.token_parts import house_number_part, street_prefix_part

SALTED_BLOOM_BITS: Final = 256
SALTED_BLOOM_BYTES: Final = SALTED_BLOOM_BITS // 8
#: Positions drawn per name value (about 21 % of the bits set, whatever the name's length).
DRAWS: Final = 60
#: Positions drawn per address value (street + ZIP has 15–25 bigrams).
ADDRESS_DRAWS: Final = 50
_POSITIONS_PER_BLOCK: Final = 8  # 16-byte AES block = 8 16-bit words
_PAD: Final = b"\x00"
_CHUNK: Final = 4096

U8Array = npt.NDArray[np.uint8]
BoolArray = npt.NDArray[np.bool_]
I64Array = npt.NDArray[np.int64]


@lru_cache(maxsize=64)
def field_key(bloom_sub_key: bytes, label: str) -> bytes:
    """The AES-256 key of one salted field, from the project's Bloom sub-key."""
    return HKDFExpand(
        algorithm=SHA256(), length=32, info=f"fedlink/2 salted-bloom {label}".encode()
    ).derive(bloom_sub_key)


def dob_salt(dob: dt.date | None) -> bytes | None:
    """The date-of-birth salt: year, then day and month in order (swap-invariant)."""
    if dob is None:
        return None
    low, high = sorted((dob.month, dob.day))
    return f"dob|{dob.year:04d}|{low:02d}|{high:02d}".encode()


def house_salt(postal_code: str | None, house: bytes, street: bytes) -> bytes | None:
    """The house salt: ZIP and house number, both present, else None."""
    if not postal_code or not house:
        return None
    return b"house|" + postal_code.encode() + b"|" + house


def street_salt(postal_code: str | None, house: bytes, street: bytes) -> bytes | None:
    """The street salt: ZIP and the street name's first letters, both present, else None."""
    if not postal_code or not street:
        return None
    return b"street|" + postal_code.encode() + b"|" + street


def _salt_ids(salts: Sequence[bytes | None]) -> tuple[npt.NDArray[np.uint64], BoolArray]:
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


def _bigrams(values: list[str]) -> tuple[I64Array, I64Array]:
    """Distinct (value index, bigram id) pairs of ``␀v␀`` for every value, sorted."""
    encoded = [v.encode("utf-8") for v in values]
    if any(b"\x00" in e for e in encoded):
        raise EncodingError("a Bloom-encoded value must not contain NUL characters")
    data = _PAD + (_PAD + _PAD).join(encoded) + _PAD
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    starts = np.zeros(len(values), dtype=np.int64)
    np.cumsum(lengths[:-1] + 2, out=starts[1:])
    raw = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    ids = (raw[:-1] << 8) | raw[1:]
    owner = np.repeat(np.arange(len(values)), np.diff(starts, append=ids.size))
    keep = ids != 0  # (NUL, NUL) spans two values: a bigram of neither
    codes = np.unique(owner[keep] * 65536 + ids[keep])
    return codes // 65536, codes % 65536


def salted_bloom_many(
    key: bytes, values: Sequence[str | None], salts: Sequence[bytes | None], draws: int
) -> tuple[U8Array, BoolArray]:
    """Salted constant-weight filters of ``values`` under the AES-256 ``key``.

    Returns ``(filters, present)``: ``(n, SALTED_BLOOM_BYTES)`` uint8 (zero rows where
    missing) and a bool per row, False where the value or the salt is missing.
    """
    if len(values) != len(salts):
        raise EncodingError("values and salts must have the same length")
    n = len(values)
    salt_ids, salt_present = _salt_ids(salts)
    present = salt_present & np.fromiter(map(bool, values), dtype=np.bool_, count=n)
    out = np.zeros((n, SALTED_BLOOM_BYTES), dtype=np.uint8)
    rows = np.flatnonzero(present)
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - a PRF on distinct blocks
    for lo in range(0, len(rows), _CHUNK):
        chunk = rows[lo : lo + _CHUNK]
        chunk_values = [values[i] or "" for i in chunk.tolist()]
        out[chunk] = _encode_chunk(encryptor, chunk_values, salt_ids[chunk], draws)
    return out, present


def _encode_chunk(
    encryptor: CipherContext, values: list[str], salt_ids: npt.NDArray[np.uint64], draws: int
) -> U8Array:
    owner, bigram = _bigrams(values)
    per_value = np.bincount(owner, minlength=len(values))
    first = np.cumsum(per_value) - per_value
    rank = np.arange(owner.size) - first[owner]
    n_own = per_value[owner]
    k = draws // n_own + (rank < draws % n_own)
    blocks_each = (k + _POSITIONS_PER_BLOCK - 1) // _POSITIONS_PER_BLOCK
    instance = np.repeat(np.arange(owner.size), blocks_each)
    first_block = np.cumsum(blocks_each) - blocks_each
    counter = np.arange(instance.size) - np.repeat(first_block, blocks_each)
    blocks = np.zeros((instance.size, 2), dtype=np.uint64)
    blocks[:, 0] = salt_ids[owner[instance]]
    blocks[:, 1] = (bigram[instance] | (counter << 16)).astype(np.uint64)
    cipher = encryptor.update(blocks.tobytes())
    words = np.frombuffer(cipher, dtype="<u2").reshape(-1, _POSITIONS_PER_BLOCK)
    # Word j of block c of an instance is its draw c*8 + j; keep the first k draws.
    spare = (counter + 1) * _POSITIONS_PER_BLOCK - k[instance]  # unused words of the block
    keep = np.arange(_POSITIONS_PER_BLOCK) < (_POSITIONS_PER_BLOCK - np.maximum(spare, 0))[:, None]
    flat = (owner[instance] * SALTED_BLOOM_BITS)[:, None] + (words & (SALTED_BLOOM_BITS - 1))
    bits = np.zeros(len(values) * SALTED_BLOOM_BITS, dtype=np.bool_)
    bits[flat[keep]] = True
    return np.packbits(bits.reshape(len(values), SALTED_BLOOM_BITS), axis=1, bitorder="little")


#: Field → (the project Bloom sub-key it derives from, its AES key label). The first name
#: as last shares the last name's key: comparable with the other side's last name only.
FIELD_KEYS: Final = {
    "first_name": ("first_name", "first_name"),
    "last_name": ("last_name", "last_name"),
    "address": ("address", "address"),
    "middle_name": ("first_name", "middle_name"),
    "first_name_as_last": ("last_name", "last_name"),
}


#: Fields also shipped under the household salt, as ``bf_<field>__home`` columns: the
#: names of a record whose date of birth is wrong or missing still compare with the same
#: person's record at the same address.
HOUSEHOLD_FIELDS: Final = ("first_name", "last_name", "middle_name", "first_name_as_last")
SALT_SUFFIXES: Final = ("__house", "__street")


#: Fields whose salt also holds the value's first letter (below).
_NAME_FIELDS: Final = frozenset({"first_name", "last_name", "middle_name", "first_name_as_last"})


def with_initial(salts: Sequence[bytes | None], values: Sequence[str | None]) -> list[bytes | None]:
    """``salts`` extended with each value's first character (None where either is missing).

    A birth date alone is shared by ~300 people of a 10-million-person state: enough for
    name frequencies to show inside one salt group, were a hub able to isolate it. With
    the name's initial the group is the people born that day whose name starts with that
    letter: a few dozen at most. A name whose first letter is wrong no longer compares
    under that salt; the household salts and the tokens' nickname variants cover most.
    The first name as last takes the first name's initial, so it meets the other side's
    last name (salted with the last name's initial) exactly when the names are swapped.
    """
    return [
        None if salt is None or not value else salt + b"|" + value[0].encode("utf-8")
        for salt, value in zip(salts, values, strict=True)
    ]


def salted_filters(
    batch: IdentityColumns, values: dict[str, list[str | None]], keys: ProjectKeys
) -> list[tuple[U8Array, BoolArray]]:
    """Every filter column of a token batch, in schema order: each field of
    :data:`protocol.bloom.BLOOM_FIELDS` under the birth-date salt, then each of
    :data:`HOUSEHOLD_FIELDS` under each household salt (:data:`SALT_SUFFIXES`)."""
    from protocol.bloom import BLOOM_FIELDS

    houses = list(map(house_number_part, batch.street_address))
    streets = list(map(street_prefix_part, batch.street_address))
    salt_sets = [(BLOOM_FIELDS, list(map(dob_salt, batch.dob)))]
    salt_sets += [
        (HOUSEHOLD_FIELDS, list(map(salt_of, batch.postal_code, houses, streets)))
        for salt_of in (house_salt, street_salt)
    ]
    out = []
    for fields, salts in salt_sets:
        for field in fields:
            field_salts = with_initial(salts, values[field]) if field in _NAME_FIELDS else salts
            out.append(salted_field_filters(field, values[field], field_salts, keys))
    return out


def salted_field_filters(
    field: str, values: Sequence[str | None], salts: Sequence[bytes | None], keys: ProjectKeys
) -> tuple[U8Array, BoolArray]:
    """:func:`salted_bloom_many` of one identity field under the project's keys."""
    if field not in FIELD_KEYS:
        raise EncodingError(f"no salted Bloom filter is defined for field {field!r}")
    sub_key, label = FIELD_KEYS[field]
    draws = ADDRESS_DRAWS if field == "address" else DRAWS
    return salted_bloom_many(field_key(keys.bloom_key(sub_key), label), values, salts, draws)


def dice(a: bytes, b: bytes) -> float:
    """Dice coefficient of two salted filters; 0.0 when both are empty."""
    if len(a) != SALTED_BLOOM_BYTES or len(b) != SALTED_BLOOM_BYTES:
        raise EncodingError(f"salted Bloom filters must be {SALTED_BLOOM_BYTES} bytes")
    x, y = int.from_bytes(a, "little"), int.from_bytes(b, "little")
    total = x.bit_count() + y.bit_count()
    return 2.0 * (x & y).bit_count() / total if total else 0.0
