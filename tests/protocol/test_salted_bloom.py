"""Record-salted, constant-weight Bloom filters (protocol.salted_bloom)."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from protocol.errors import EncodingError
from protocol.keys import ProjectKeys, derive_project_keys
from protocol.salted_bloom import (
    DRAWS,
    SALTED_BLOOM_BYTES,
    dice,
    dob_salt,
    house_salt,
    salted_field_filters,
    street_salt,
    with_initial,
)


@pytest.fixture(scope="module")
def keys() -> ProjectKeys:
    return derive_project_keys(b"\x51" * 32, b"salted-bloom-test-salt-012345678")


def encode(field: str, value: str | None, salt: bytes | None, keys: ProjectKeys) -> bytes | None:
    filters, present = salted_field_filters(field, [value], [salt], keys)
    return filters[0].tobytes() if present[0] else None


SALT = dob_salt(dt.date(2004, 3, 17))
OTHER = dob_salt(dt.date(2004, 3, 18))


def test_equal_values_under_one_salt_are_equal_and_typos_stay_similar(keys):
    one = encode("first_name", "JONATHAN", SALT, keys)
    assert one is not None and len(one) == SALTED_BLOOM_BYTES
    assert one == encode("first_name", "JONATHAN", SALT, keys)
    assert dice(one, encode("first_name", "JONATHON", SALT, keys)) > 0.7
    assert dice(one, encode("first_name", "MARGARET", SALT, keys)) < 0.4


def test_equal_values_under_other_salts_look_unrelated(keys):
    # What frequency alignment and pattern mining need — equal names, equal filters; the
    # same bigram, the same bits — no longer holds across records with different salts.
    here = encode("last_name", "SMITH", SALT, keys)
    for salt in (OTHER, house_salt("23220", b"12", b"MAI"), street_salt("23220", b"", b"MAI")):
        assert dice(here, encode("last_name", "SMITH", salt, keys)) < 0.4


def test_day_month_swap_keeps_the_salt():
    assert dob_salt(dt.date(1990, 3, 7)) == dob_salt(dt.date(1990, 7, 3))
    assert dob_salt(dt.date(1990, 3, 7)) != dob_salt(dt.date(1991, 3, 7))
    assert dob_salt(None) is None


def test_missing_value_or_salt_gives_no_filter(keys):
    assert encode("first_name", None, SALT, keys) is None
    assert encode("first_name", "", SALT, keys) is None
    assert encode("first_name", "ANA", None, keys) is None
    assert house_salt(None, b"12", b"MAI") is None and house_salt("23220", b"", b"MAI") is None
    assert street_salt("23220", b"12", b"") is None


def test_fields_use_their_own_keys_and_first_as_last_the_last_names(keys):
    first = encode("first_name", "MORGAN", SALT, keys)
    last = encode("last_name", "MORGAN", SALT, keys)
    assert dice(first, last) < 0.4
    assert encode("middle_name", "MORGAN", SALT, keys) not in (first, last)
    # Comparable with the other side's last name only: a first/last swap shows.
    assert encode("first_name_as_last", "MORGAN", SALT, keys) == last


def test_bit_count_does_not_track_the_value(keys):
    """Every value draws the same number of positions: the weight distribution is the
    same for a two-letter name and a fifteen-letter one (the legacy filter's weight
    correlated with the name's length at r ≈ 0.97)."""
    rng = random.Random(3)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    values = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 15))) for _ in range(6000)]
    start = dt.date(1950, 1, 1)
    salts = [dob_salt(start + dt.timedelta(days=rng.randint(0, 20000))) for _ in values]
    filters, present = salted_field_filters("last_name", values, salts, keys)
    assert present.all()
    weight = np.unpackbits(filters, axis=1).sum(axis=1)
    length = np.array([len(v) for v in values])
    assert abs(np.corrcoef(weight, length)[0, 1]) < 0.05
    by_length = [weight[length == n].mean() for n in range(2, 16)]
    assert max(by_length) - min(by_length) < 2.0  # bits, of about 57 set
    assert weight.max() <= DRAWS


def test_refusals(keys):
    with pytest.raises(EncodingError, match="NUL"):
        salted_field_filters("first_name", ["A\x00B"], [SALT], keys)
    with pytest.raises(EncodingError, match="same length"):
        salted_field_filters("first_name", ["ANA", "EVA"], [SALT], keys)
    with pytest.raises(EncodingError, match="no salted Bloom filter"):
        salted_field_filters("ssn", ["123"], [SALT], keys)


def test_non_ascii_values_are_encoded_as_utf8(keys):
    accented = encode("first_name", "JOSÉ", SALT, keys)
    assert accented is not None and accented != encode("first_name", "JOSE", SALT, keys)


def test_name_salts_hold_the_initial_and_swaps_still_meet(keys):
    (m_salt,) = with_initial([SALT], ["MORGAN"])
    (l_salt,) = with_initial([SALT], ["LEE"])
    assert m_salt != l_salt and with_initial([None], ["MORGAN"]) == [None]
    assert with_initial([SALT], [None]) == [None]
    # A: MORGAN LEE; B: LEE MORGAN. A's first name as last meets B's last name.
    a_first_as_last = encode("first_name_as_last", "MORGAN", m_salt, keys)
    b_last = encode("last_name", "MORGAN", m_salt, keys)
    assert a_first_as_last == b_last
    # The same name under another initial's salt is another encoding.
    assert dice(encode("last_name", "MORGAN", l_salt, keys), b_last) < 0.4
