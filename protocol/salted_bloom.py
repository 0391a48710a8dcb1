"""Record-salted, constant-weight keyed Bloom filters: the fuzzy encodings a node ships.

Why (``docs/privacy.md``): a field-level filter that is a function of the value alone is
equal for equal names, so its frequencies line up with public name frequencies, and the
bits a bigram sets are the same in every record, so they can be learnt once a few
filters are named (pattern mining). The attack suite (:mod:`fedlink.attack`) recovered
about 90 % of full names that way. This construction removes both footholds:

1. **Salting with stable record values** (Niedermeyer et al. 2014; Chen, Schnell,
   Armknecht & Heng 2022; the salts are :mod:`protocol.salts`). Each bigram's positions
   are a PRF of the field key, the record's salt, the value's initial (name fields) and
   the bigram, so two records share bit positions only when they share all of them. A
   salt group is a few dozen people at most, too few for any frequency to mean anything,
   and the bits a bigram sets in one group say nothing about another. No salt → null.
2. **Constant weight.** Every value draws exactly :data:`DRAWS` positions
   (:data:`ADDRESS_DRAWS` for addresses), spread over its distinct bigrams: ``T // n``
   each, one more for the ``T % n`` bigrams with the smallest ids. The number of set bits
   is the number of distinct positions among ``T`` uniform draws — the same distribution
   for every value, so a filter's weight no longer tells a name's length.
3. **No fold.** The filter is :data:`SALTED_BLOOM_BITS` bits as drawn; Dice as before.

Positions come from AES-256 in ECB mode over the 16-byte blocks ``salt id (8) ‖ bigram
(2) ‖ counter (1) ‖ initial (4, 0 for the address) ‖ 0 (1)`` under a per-field key
(HKDF-Expand of the project's Bloom sub-key), read as 16-bit words mod 128 (unbiased).
AES is a PRP on distinct blocks — a PRF for this use — and one call encrypts a whole
column's blocks. The bigrams of a column of values are found once (:class:`_Plan`) and
reused for every salt and key that column is encoded under.
"""


from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from protocol.bloom import BLOOM_FIELDS
from protocol.columns import IdentityColumns
from protocol.errors import EncodingError
from protocol.keys import ProjectKeys
from protocol.salts import HOUSEHOLD_SALTS, NAME_FIELDS, record_salts

SALTED_BLOOM_BITS: Final = 128
SALTED_BLOOM_BYTES: Final = SALTED_BLOOM_BITS // 8
#: Positions drawn per name value (about 21 % of the bits set, whatever the name's length).
DRAWS: Final = 30
#: Positions drawn per address value (street + ZIP has 15–25 bigrams).
ADDRESS_DRAWS: Final = 25
_POSITIONS_PER_BLOCK: Final = 8  # 16-byte AES block = 8 16-bit words
_PAD: Final = b"\x00"

U8Array = npt.NDArray[np.uint8]
BoolArray = npt.NDArray[np.bool_]
I64Array = npt.NDArray[np.int64]
U64Array = npt.NDArray[np.uint64]


@lru_cache(maxsize=64)
def field_key(bloom_sub_key: bytes, label: str) -> bytes:
    """The AES-256 key of one salted field, from the project's Bloom sub-key."""
    return HKDFExpand(
        algorithm=SHA256(), length=32, info=f"fedlink/2 salted-bloom {label}".encode()
    ).derive(bloom_sub_key)


#: Field → (the project Bloom sub-key it derives from, its AES key label). The first name
#: as last shares the last name's key: comparable with the other side's last name only.
FIELD_KEYS: Final = {
    "first_name": ("first_name", "first_name"),
    "last_name": ("last_name", "last_name"),
    "address": ("address", "address"),
    "middle_name": ("first_name", "middle_name"),
    "first_name_as_last": ("last_name", "last_name"),
}


def _bigrams(values: list[str]) -> tuple[I64Array, I64Array]:
    """Distinct (value index, bigram id) pairs of ``␀v␀`` for every value, sorted."""
    encoded = [v.encode("utf-8") for v in values]
    if any(b"\x00" in e for e in encoded):
        raise EncodingError("a Bloom-encoded value must not contain NUL characters")
    if not encoded:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    data = _PAD + (_PAD + _PAD).join(encoded) + _PAD
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    starts = np.zeros(len(values), dtype=np.int64)
    np.cumsum(lengths[:-1] + 2, out=starts[1:])
    raw = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    ids = (raw[:-1] << 8) | raw[1:]
    owner = np.repeat(np.arange(len(values)), np.diff(starts, append=ids.size))
    keep = ids != 0  # (NUL, NUL) spans two values: a bigram of neither
    codes = np.sort(owner[keep] * 65536 + ids[keep])  # sort + adjacent: faster than unique
    codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))] if codes.size else codes
    return codes // 65536, codes % 65536


class _Plan(NamedTuple):
    """The distinct bigrams of a column of values and the AES blocks they need, found
    once per column and reused for every salt and key it is encoded under."""

    present: BoolArray  # per value: non-empty
    block_owner: I64Array  # per block: the value it belongs to
    block_word: U64Array  # per block: its second 8 bytes without the initial
    keep: BoolArray  # (blocks, 8): which of the block's 8 positions are drawn
    initial: U64Array  # per value: its first character's code point (0 if empty)

    @classmethod
    def of(cls, values: Sequence[str | None], draws: int) -> _Plan:
        n = len(values)
        present = np.fromiter(map(bool, values), dtype=np.bool_, count=n)
        rows = np.flatnonzero(present)
        texts = [values[i] or "" for i in rows.tolist()]
        owner, bigram = _bigrams(texts)
        owner = rows[owner]
        per_value = np.bincount(owner, minlength=n)
        first = np.cumsum(per_value) - per_value
        rank = np.arange(owner.size) - first[owner]
        n_own = per_value[owner]
        k = draws // n_own + (rank < draws % n_own)
        blocks_each = (k + _POSITIONS_PER_BLOCK - 1) // _POSITIONS_PER_BLOCK
        instance = np.repeat(np.arange(owner.size), blocks_each)
        first_block = np.cumsum(blocks_each) - blocks_each
        counter = np.arange(instance.size) - np.repeat(first_block, blocks_each)
        # Word j of block c of a bigram is its draw c*8 + j; keep the first k draws.
        unused = np.maximum((counter + 1) * _POSITIONS_PER_BLOCK - k[instance], 0)
        keep = np.arange(_POSITIONS_PER_BLOCK) < (_POSITIONS_PER_BLOCK - unused)[:, None]
        word = (bigram[instance] | (counter << 16)).astype(np.uint64)
        initial = np.zeros(n, dtype=np.uint64)
        initial[rows] = [ord(t[0]) for t in texts]
        return cls(present, owner[instance], word, keep, initial)


def _encode(
    plan: _Plan, key: bytes, salt_id: U64Array, salt_present: BoolArray, *, initial: bool
) -> tuple[U8Array, BoolArray]:
    present = plan.present & salt_present
    n = len(present)
    take = np.flatnonzero(present[plan.block_owner])
    owner = plan.block_owner[take]
    blocks = np.empty((take.size, 2), dtype=np.uint64)
    blocks[:, 0] = salt_id[owner]
    blocks[:, 1] = plan.block_word[take]
    if initial:
        blocks[:, 1] |= plan.initial[owner] << np.uint64(24)
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - a PRF on distinct blocks
    words = np.frombuffer(encryptor.update(blocks.tobytes()), dtype="<u2")
    words = words.reshape(-1, _POSITIONS_PER_BLOCK)
    flat = (owner * SALTED_BLOOM_BITS)[:, None] + (words & (SALTED_BLOOM_BITS - 1))
    bits = np.zeros(n * SALTED_BLOOM_BITS, dtype=np.bool_)
    bits[flat[plan.keep[take]]] = True
    filters = np.packbits(bits.reshape(n, SALTED_BLOOM_BITS), axis=1, bitorder="little")
    return filters, present


def _field_key(keys: ProjectKeys, field: str) -> bytes:
    if field not in FIELD_KEYS:
        raise EncodingError(f"no salted Bloom filter is defined for field {field!r}")
    sub_key, label = FIELD_KEYS[field]
    return field_key(keys.bloom_key(sub_key), label)


def _draws(field: str) -> int:
    return ADDRESS_DRAWS if field == "address" else DRAWS


def salted_field_filters(
    field: str,
    values: Sequence[str | None],
    salts: tuple[U64Array, BoolArray],
    keys: ProjectKeys,
) -> tuple[U8Array, BoolArray]:
    """The filters of one field under the project's keys, each value with its record's
    salt (ids and presence, as :mod:`protocol.salts` gives them; name fields add the
    value's initial themselves).

    Returns ``(filters, present)``: ``(n, SALTED_BLOOM_BYTES)`` uint8 (zero rows where
    missing) and a bool per row, False where the value or the salt is missing.
    """
    ids, present = salts
    if len(values) != len(ids) or len(ids) != len(present):
        raise EncodingError("values and salts must have the same length")
    return _encode(_Plan.of(values, _draws(field)), _field_key(keys, field), ids, present,
                   initial=field in NAME_FIELDS)


def salted_filters(
    batch: IdentityColumns,
    values: dict[str, list[str | None]],
    keys: ProjectKeys,
    parts: dict[str, list[bytes]] | None = None,
) -> list[tuple[U8Array, BoolArray]]:
    """Every filter column of a token batch, in :func:`filter_columns` order. ``parts``:
    the token encoder's framed parts of the batch, if built (their house numbers and
    street prefixes are reused)."""
    if parts is None:
        salts = record_salts(batch)
    else:
        salts = record_salts(batch, parts["house_number"], parts["street_prefix3"])
    plans: dict[tuple[int, int], _Plan] = {}
    out = []
    for column in filter_columns():
        field, _, suffix = column[len("bf_"):].partition("__")
        draws = _draws(field)
        # first_name and first_name_as_last are the same list (encoding._encode): one plan.
        plan_key = (id(values[field]), draws)
        if plan_key not in plans:
            plans[plan_key] = _Plan.of(values[field], draws)
        ids, present = salts["__" + suffix if suffix else ""]
        out.append(_encode(plans[plan_key], _field_key(keys, field), ids, present,
                           initial=field in NAME_FIELDS))
    return out


def filter_columns() -> list[str]:
    """The filter columns of a token batch, in order: ``bf_<field>`` for each field of
    :data:`protocol.bloom.BLOOM_FIELDS` (birth-date salt), then ``bf_<field><suffix>``."""
    names = [f"bf_{f}" for f in BLOOM_FIELDS]
    return names + [f"bf_{f}{x}" for x, fields in HOUSEHOLD_SALTS.items() for f in fields]


def dice(a: bytes, b: bytes) -> float:
    """Dice coefficient of two salted filters; 0.0 when both are empty."""
    if len(a) != SALTED_BLOOM_BYTES or len(b) != SALTED_BLOOM_BYTES:
        raise EncodingError(f"salted Bloom filters must be {SALTED_BLOOM_BYTES} bytes")
    x, y = int.from_bytes(a, "little"), int.from_bytes(b, "little")
    total = x.bit_count() + y.bit_count()
    return 2.0 * (x & y).bit_count() / total if total else 0.0
