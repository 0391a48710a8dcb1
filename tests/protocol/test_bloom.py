"""Keyed, XOR-folded Bloom filters and the Dice similarity on them."""

from __future__ import annotations

import hmac

import numpy as np
import pytest

import protocol.bloom as bloom
from protocol.bloom import (
    BLOOM_BITS,
    BLOOM_BYTES,
    BLOOM_FIELDS,
    HASHES_PER_QGRAM,
    RAW_BITS,
    bloom_encode,
    bloom_encode_many,
    dice,
    dice_many,
)
from protocol.errors import EncodingError
from protocol.keys import ProjectKeys, derive_project_keys

# fmt: off
NAMES = (
    "JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID",
    "ELIZABETH", "WILLIAM", "BARBARA", "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES",
    "GARCIA", "MILLER", "DAVIS", "NGUYEN",
)
# fmt: on


@pytest.fixture(scope="module")
def keys() -> ProjectKeys:
    return derive_project_keys(b"\x22" * 32, b"bloom-test-salt-0123456789abcdef",
        project_id="P-test", project_digest="ab" * 32)


def encode(value: str, keys: ProjectKeys, field: str = "first_name") -> bytes:
    encoded = bloom_encode(field, value, keys)
    assert encoded is not None
    return encoded


def reference_key(field: str, keys: ProjectKeys) -> bytes:
    """The documented sub-key of each field, derived plainly."""
    if field == "middle_name":
        # HKDF-Expand(PRK = first-name sub-key, info) for a 32-byte output: one HMAC block.
        info = b"fedlink/1 bloom middle_name"
        return hmac.digest(keys.bloom_key("first_name"), info + b"\x01", "sha256")
    if field == "first_name_as_last":
        return keys.bloom_key("last_name")
    return keys.bloom_key(field)


def reference_encode(field: str, value: str, keys: ProjectKeys) -> bytes:
    """The construction of the module docstring, written plainly, one value at a time."""
    key, k = reference_key(field, keys), HASHES_PER_QGRAM[field]
    data = b"\x00" + value.encode("utf-8") + b"\x00"
    raw = [0] * RAW_BITS
    for i in range(len(data) - 1):
        words: list[int] = []
        block = 0
        while len(words) < k:
            digest = hmac.digest(key, data[i : i + 2] + bytes([block]), "sha256")
            words += [int.from_bytes(digest[j : j + 2], "big") for j in range(0, 32, 2)]
            block += 1
        for word in words[:k]:
            raw[word % RAW_BITS] = 1
    folded = [raw[i] ^ raw[i + BLOOM_BITS] for i in range(BLOOM_BITS)]
    return np.packbits(np.array(folded, dtype=np.uint8), bitorder="little").tobytes()


def test_fields_and_sizes() -> None:
    # New fields go last: the columns of existing fields keep their positions.
    assert BLOOM_FIELDS == (
        "first_name", "last_name", "address", "middle_name", "first_name_as_last"
    )  # fmt: skip
    assert BLOOM_BYTES * 8 == BLOOM_BITS == RAW_BITS // 2
    assert set(HASHES_PER_QGRAM) == set(BLOOM_FIELDS)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "CHRISTOPHER"),
        ("last_name", "O"),
        ("address", "1200 E MAIN ST APT 4 RICHMOND 23219"),
        ("address", "12 CAFÉ RUE MONTRÉAL"),  # not ASCII: the UTF-8 path
        ("middle_name", "HENRY"),
        ("first_name_as_last", "WILLIAM"),
    ],
)
def test_encoding_is_the_documented_construction(keys: ProjectKeys, field: str, value: str) -> None:
    assert bloom_encode(field, value, keys) == reference_encode(field, value, keys)


def test_middle_name_filter_has_its_own_key(keys: ProjectKeys) -> None:
    # Same value, unrelated bits: the middle-name sub-key is not the first-name one.
    assert encode("HENRY", keys, "middle_name") != encode("HENRY", keys, "first_name")
    assert dice(encode("HENRY", keys, "middle_name"), encode("HENRY", keys, "first_name")) < 0.6


def test_first_name_as_last_is_comparable_with_last_names_only(keys: ProjectKeys) -> None:
    # What lets the hub see a first/last swap: first name A vs last name B, same key.
    as_last = encode("JOHNSON", keys, "first_name_as_last")
    assert as_last == encode("JOHNSON", keys, "last_name")
    assert dice(as_last, encode("JONSON", keys, "last_name")) > 0.75  # a typo stays close
    assert as_last != encode("JOHNSON", keys, "first_name")


def test_missing_or_empty_value_has_no_filter(keys: ProjectKeys) -> None:
    assert bloom_encode("first_name", None, keys) is None
    assert bloom_encode("first_name", "", keys) is None


def test_filters_are_fixed_size_and_deterministic(keys: ProjectKeys) -> None:
    again = derive_project_keys(b"\x22" * 32, b"bloom-test-salt-0123456789abcdef",
        project_id="P-test", project_digest="ab" * 32)
    for name in NAMES:
        assert len(encode(name, keys)) == BLOOM_BYTES
        assert encode(name, keys) == encode(name, again)


def test_filters_differ_across_projects_and_fields(keys: ProjectKeys) -> None:
    other = derive_project_keys(b"\x22" * 32, b"another-project-salt-0123456789a",
        project_id="P-test", project_digest="ab" * 32)
    assert encode("SMITH", keys) != encode("SMITH", other)
    assert encode("SMITH", keys, "first_name") != encode("SMITH", keys, "last_name")
    # Different keys place bigrams at unrelated positions: similarity is chance level.
    assert dice(encode("SMITH", keys), encode("SMITH", other)) < 0.6


@pytest.mark.parametrize(
    ("a", "b"),
    [("CHRISTOPHER", "CHRISTOPER"), ("JOHNSON", "JONSON"), ("WILLIAMS", "WILIAMS")],
)
def test_one_letter_typo_is_highly_similar(keys: ProjectKeys, a: str, b: str) -> None:
    assert dice(encode(a, keys), encode(b, keys)) > 0.8


def bigram_dice(a: str, b: str) -> float:
    x = {f"_{a}_"[i : i + 2] for i in range(len(a) + 1)}
    y = {f"_{b}_"[i : i + 2] for i in range(len(b) + 1)}
    return 2 * len(x & y) / (len(x) + len(y))


def test_filter_dice_tracks_bigram_dice(keys: ProjectKeys) -> None:
    # Keying, folding and collisions must not distort the similarity the engine relies on:
    # a mid-word substitution in a 9-letter name is 0.8 on bigrams whatever the encoding.
    pairs = [(a, b) for i, a in enumerate(NAMES) for b in NAMES[i + 1 :]]
    pairs += [("KATHERINE", "KATHERYNE"), ("JONATHAN", "JONATHON"), ("SMITH", "SMYTH")]
    filter_scores = [dice(encode(a, keys), encode(b, keys)) for a, b in pairs]
    bigram_scores = [bigram_dice(a, b) for a, b in pairs]
    assert np.corrcoef(filter_scores, bigram_scores)[0, 1] > 0.9
    # Collisions add some chance agreement; XOR-folding can cancel a little.
    errors = np.subtract(filter_scores, bigram_scores)
    assert errors.min() > -0.1 and errors.max() < 0.4


def test_unrelated_names_are_dissimilar(keys: ProjectKeys) -> None:
    filters = [encode(n, keys) for n in NAMES]
    scores = [dice(a, b) for i, a in enumerate(filters) for b in filters[i + 1 :]]
    assert np.mean(scores) < 0.35
    assert dice(encode("NGUYEN", keys), encode("PATRICIA", keys)) < 0.4


def test_dice_of_identical_filters_is_one_and_empty_is_zero(keys: ProjectKeys) -> None:
    assert dice(encode("MARY", keys), encode("MARY", keys)) == 1.0
    empty = bytes(BLOOM_BYTES)
    assert dice(empty, empty) == 0.0


def test_dice_refuses_wrong_length() -> None:
    with pytest.raises(EncodingError):
        dice(b"\x00" * 3, bytes(BLOOM_BYTES))


def test_batch_encoding_matches_single_values_across_chunks(
    keys: ProjectKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bloom, "_CHUNK", 3)  # force several chunks
    values: list[str | None] = [*NAMES[:5], None, "", *NAMES[5:9], None]
    filters, present = bloom_encode_many("last_name", values, keys)
    assert filters.shape == (len(values), BLOOM_BYTES) and filters.dtype == np.uint8
    assert present.tolist() == [bool(v) for v in values]
    for row, value in zip(filters, values, strict=True):
        expected = bloom_encode("last_name", value, keys)
        assert (row.tobytes() if value else None) == expected
        if not value:
            assert not row.any()


def test_dice_many_equals_dice_row_by_row(keys: ProjectKeys) -> None:
    rng = np.random.default_rng(5)
    left = np.array([np.frombuffer(encode(n, keys), np.uint8) for n in NAMES])
    right = left[rng.permutation(len(NAMES))]
    right[0] = 0  # an empty row
    left[1] = 0
    right[1] = 0  # both empty
    scores = dice_many(left, right)
    assert scores.dtype == np.float64 and scores.shape == (len(NAMES),)
    for i in range(len(NAMES)):
        assert scores[i] == pytest.approx(dice(left[i].tobytes(), right[i].tobytes()))
    assert scores[1] == 0.0


def test_popcount_lookup_table_matches_hardware_popcount() -> None:
    rng = np.random.default_rng(9)
    words = rng.integers(0, 2**63, size=(50, BLOOM_BYTES // 8), dtype=np.uint64)
    words[0] = np.iinfo(np.uint64).max
    expected = [sum(bin(int(w)).count("1") for w in row) for row in words]
    assert bloom._popcount_rows(words).tolist() == expected
    assert bloom._popcount_rows_lut(words).tolist() == expected


def test_dice_many_refuses_bad_shapes() -> None:
    good = np.zeros((2, BLOOM_BYTES), np.uint8)
    with pytest.raises(EncodingError):
        dice_many(good, np.zeros((3, BLOOM_BYTES), np.uint8))
    with pytest.raises(EncodingError):
        dice_many(good, np.zeros((2, BLOOM_BYTES + 1), np.uint8))
    with pytest.raises(EncodingError):
        dice_many(good, np.zeros((2, BLOOM_BYTES), np.int64))


def test_unknown_field_and_nul_in_value_are_refused(keys: ProjectKeys) -> None:
    with pytest.raises(EncodingError):
        bloom_encode("ssn", "219099999", keys)
    with pytest.raises(EncodingError):
        bloom_encode("first_name", "AB\x00CD", keys)
