"""Record-salted, constant-weight Bloom filters (protocol.salted_bloom, protocol.salts)."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from protocol.errors import EncodingError
from protocol.keys import ProjectKeys, derive_project_keys
from protocol.salted_bloom import DRAWS, SALTED_BLOOM_BYTES, dice, salted_field_filters
from protocol.salts import dob_salt_ids, household_salts, zip_key


def household(kind: str, postal: str | None, city: str | None, house: bytes, street: bytes):
    """One record's household salt of ``kind`` (``__house``, ``__street``, ``__place``)."""
    return household_salts([postal], [city], [house], [street])[kind]


@pytest.fixture(scope="module")
def keys() -> ProjectKeys:
    return derive_project_keys(b"\x51" * 32, b"salted-bloom-test-salt-012345678",
        project_id="P-test", project_digest="ab" * 32)


def encode(field: str, value: str | None, salt, keys: ProjectKeys) -> bytes | None:
    """``salt``: a date or None (the birth-date salt), or a :func:`household` salt."""
    ids = dob_salt_ids([salt]) if salt is None or isinstance(salt, dt.date) else salt
    filters, present = salted_field_filters(field, [value], ids, keys)
    return filters[0].tobytes() if present[0] else None


SALT = dt.date(2004, 3, 17)
OTHER = dt.date(2004, 3, 18)


def test_equal_values_under_one_salt_are_equal_and_typos_stay_similar(keys):
    one = encode("first_name", "JONATHAN", SALT, keys)
    assert one is not None and len(one) == SALTED_BLOOM_BYTES
    assert one == encode("first_name", "JONATHAN", SALT, keys)
    assert dice(one, encode("first_name", "JONATHON", SALT, keys)) > 0.7
    assert dice(one, encode("first_name", "JEREMIAH", SALT, keys)) < 0.4


def test_equal_values_under_other_salts_look_unrelated(keys):
    # What frequency alignment and pattern mining need — equal names, equal filters; the
    # same bigram, the same bits — no longer holds across records with different salts.
    here = encode("last_name", "SMITH", SALT, keys)
    for salt in (OTHER, household("__house", "23220", None, b"12", b"MAI"),
                 household("__street", "23220", None, b"", b"MAI")):
        assert dice(here, encode("last_name", "SMITH", salt, keys)) < 0.4


def test_day_month_swap_keeps_the_salt():
    ids, present = dob_salt_ids([dt.date(1990, 3, 7), dt.date(1990, 7, 3),
                                 dt.date(1991, 3, 7), None])
    assert ids[0] == ids[1] != ids[2]
    assert present.tolist() == [True, True, True, False]


def test_transposed_zip_keeps_the_household_salts():
    assert zip_key("23220") == zip_key("22320") != zip_key("23221")
    one, other = (household_salts([z], ["X"], [b"12"], [b"MAI"]) for z in ("23220", "22320"))
    for kind in ("__house", "__street"):
        assert one[kind][0][0] == other[kind][0][0] and one[kind][1][0]
    assert household("__house", "23221", "X", b"12", b"MAI")[0][0] != one["__house"][0][0]
    # The kinds never meet: the same parts under two kinds give two ids.
    assert len({one[k][0][0] for k in one}) == 3


def test_missing_value_or_salt_gives_no_filter(keys):
    assert encode("first_name", None, SALT, keys) is None
    assert encode("first_name", "", SALT, keys) is None
    assert encode("first_name", "ANA", None, keys) is None
    assert not household("__house", None, "X", b"12", b"MAI")[1][0]
    assert not household("__house", "23220", "X", b"", b"MAI")[1][0]
    assert not household("__street", "23220", "X", b"12", b"")[1][0]
    assert not household("__place", "23220", None, b"12", b"MAI")[1][0]
    assert household("__place", None, "RICHMOND", b"12", b"MAI")[1][0]


def test_fields_use_their_own_keys_and_first_as_last_the_last_names(keys):
    first = encode("first_name", "MORGAN", SALT, keys)
    last = encode("last_name", "MORGAN", SALT, keys)
    assert dice(first, last) < 0.4
    assert encode("middle_name", "MORGAN", SALT, keys) not in (first, last)
    # Comparable with the other side's last name only: MORGAN LEE / LEE MORGAN meet.
    assert encode("first_name_as_last", "MORGAN", SALT, keys) == last


def test_name_salts_hold_the_initial(keys):
    # One salt group is the people born that day whose name starts with that letter: a
    # typo inside the name still compares, a different initial does not.
    morgan = encode("last_name", "MORGAN", SALT, keys)
    assert dice(morgan, encode("last_name", "MORGEN", SALT, keys)) > 0.6
    assert dice(morgan, encode("last_name", "NORGAN", SALT, keys)) < 0.4


def test_bit_count_does_not_track_the_value(keys):
    """Every value draws the same number of positions: the weight distribution is the
    same for a two-letter name and a fifteen-letter one (the legacy filter's weight
    correlated with the name's length at r ≈ 0.97)."""
    rng = random.Random(3)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    values = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 15))) for _ in range(6000)]
    start = dt.date(1950, 1, 1)
    dates = [start + dt.timedelta(days=rng.randint(0, 20000)) for _ in values]
    filters, present = salted_field_filters("last_name", values, dob_salt_ids(dates), keys)
    assert present.all()
    weight = np.unpackbits(filters, axis=1).sum(axis=1)
    length = np.array([len(v) for v in values])
    assert abs(np.corrcoef(weight, length)[0, 1]) < 0.05
    by_length = [weight[length == n].mean() for n in range(2, 16)]
    assert max(by_length) - min(by_length) < 1.5  # bits, of about 27 set
    assert weight.max() <= DRAWS


def test_refusals(keys):
    with pytest.raises(EncodingError, match="NUL"):
        salted_field_filters("first_name", ["A\x00B"], dob_salt_ids([SALT]), keys)
    with pytest.raises(EncodingError, match="same length"):
        salted_field_filters("first_name", ["ANA", "EVA"], dob_salt_ids([SALT]), keys)
    with pytest.raises(EncodingError, match="no salted Bloom filter"):
        salted_field_filters("ssn", ["123"], dob_salt_ids([SALT]), keys)


def test_non_ascii_values_are_encoded_as_utf8(keys):
    accented = encode("first_name", "JOSÉ", SALT, keys)
    assert accented is not None and accented != encode("first_name", "JOSE", SALT, keys)
