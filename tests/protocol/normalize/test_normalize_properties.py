"""Property tests: every normaliser takes any value without raising, and is idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.identity import IDENTITY_FIELDS, MissingReason, NormalizedIdentity, Sex
from protocol.normalize import (
    NormalizationOptions,
    Normalized,
    canonical_first_names,
    normalize_city,
    normalize_dob,
    normalize_given_name,
    normalize_identity,
    normalize_postal_code,
    normalize_sex,
    normalize_ssn,
    normalize_street_address,
    normalize_suffix,
    normalize_surname,
)

TODAY = dt.date(2025, 6, 1)
US = NormalizationOptions(today=TODAY)
ANY_POSTAL = NormalizationOptions(today=TODAY, postal_code_format="any")
DMY = NormalizationOptions(today=TODAY, date_order="DMY")

FIELD_FUNCTIONS: dict[str, Callable[[object], Normalized[object]]] = {
    "given_name": normalize_given_name,
    "surname": normalize_surname,
    "suffix": normalize_suffix,
    "dob_mdy": lambda v: normalize_dob(v, US),
    "dob_dmy": lambda v: normalize_dob(v, DMY),
    "sex": normalize_sex,
    "ssn": normalize_ssn,
    "postal_us": lambda v: normalize_postal_code(v, US),
    "postal_any": lambda v: normalize_postal_code(v, ANY_POSTAL),
    "street_address": normalize_street_address,
    "city": normalize_city,
}

# Arbitrary Unicode (hypothesis excludes surrogates by default) including NUL and other
# control characters, plus text that looks like the fields so idempotence gets exercised
# on values that normalise successfully, not only on noise.
LIKELY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet="abcXYZ éøß'-.,# /0123456789", max_size=40),
    st.from_regex(r"[0-9]{1,4}[-/. ][0-9]{1,2}[-/. ][0-9]{2,4}", fullmatch=True),
    st.from_regex(r"[0-9]{3}-?[0-9]{2}-?[0-9]{4}", fullmatch=True),
    st.from_regex(r"[0-9]{3,5}(-[0-9]{4})?", fullmatch=True),
    st.sampled_from(
        ["Jr.", "III", "2nd", "de la Cruz", "García-López", "O'Brien", "M", "female", "1"]
    ),
)
LONG_TEXT = st.text(min_size=1, max_size=40).map(lambda s: s * (20_000 // len(s) + 1))
ANY_VALUE = st.one_of(
    st.none(),
    LIKELY_TEXT,
    LONG_TEXT,
    st.binary(max_size=64),
    st.integers(),
    st.integers(min_value=-(10**5000), max_value=10**5000),
    st.floats(),
    st.booleans(),
    st.decimals(),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=3),
    st.builds(object),
)


@pytest.mark.parametrize("name", sorted(FIELD_FUNCTIONS))
@settings(max_examples=80)
@given(value=ANY_VALUE)
def test_field_normaliser_never_raises_and_is_idempotent(name: str, value: object) -> None:
    function = FIELD_FUNCTIONS[name]
    result = function(value)
    assert isinstance(result, Normalized)
    assert (result.value is None) != (result.reason is None)
    if result.reason is not None:
        assert isinstance(result.reason, MissingReason)
    elif not name.startswith(("surname", "dob")):
        # Surnames and dates have their own idempotence properties below.
        assert function(result.value) == result


@given(value=ANY_VALUE)
@settings(max_examples=100)
def test_given_name_output_is_upper_case_ascii_letters(value: object) -> None:
    name = normalize_given_name(value).value
    if name is not None:
        assert name.isascii() and name.isalpha() and name.isupper() and len(name) <= 60


@given(value=ANY_VALUE)
@settings(max_examples=100)
def test_surname_renormalises_from_its_own_output(value: object) -> None:
    result = normalize_surname(value)
    if result.value is None:
        return
    compact, parts, suffix = result.value
    assert compact.isascii() and compact.isalpha() and compact.isupper()
    assert normalize_surname(compact).value == (compact, (), None)
    if parts:
        assert "".join(parts) == compact
    # Writing the parts back out hyphenated, with the suffix, gives the same triple.
    written = "-".join(parts or (compact,)) + (f" {suffix}" if suffix else "")
    assert normalize_surname(written).value == result.value


@pytest.mark.parametrize("options", [US, DMY], ids=["MDY", "DMY"])
@settings(max_examples=100)
@given(value=ANY_VALUE)
def test_dob_iso_string_of_output_normalises_to_same_date(
    options: NormalizationOptions, value: object
) -> None:
    result = normalize_dob(value, options)
    if result.value is not None:
        assert dt.date(1900, 1, 1) <= result.value <= TODAY
        assert normalize_dob(result.value.isoformat(), options).value == result.value
        assert normalize_dob(result.value, options).value == result.value


@given(date=st.dates(min_value=dt.date(1902, 1, 1), max_value=TODAY))
def test_every_valid_birth_date_survives_each_accepted_spelling(date: dt.date) -> None:
    spellings = [
        date.isoformat(),
        date.strftime("%m/%d/%Y"),
        f"{date.month}/{date.day}/{date.year}",
        date.strftime("%m-%d-%Y"),
        date.strftime("%Y%m%d"),
        date.strftime("%d-%b-%Y"),
        date.strftime("%B %d, %Y"),
        f"{date.isoformat()}T00:00:00",
    ]
    for spelling in spellings:
        assert normalize_dob(spelling, US).value == date, spelling
    assert normalize_dob(date.strftime("%d/%m/%Y"), DMY).value == date


@settings(max_examples=100)
@given(value=LIKELY_TEXT)
def test_canonical_first_names_are_formal_sorted_and_exclude_the_name(value: str) -> None:
    names = canonical_first_names(value)
    assert list(names) == sorted(set(names))
    assert len(names) <= 3
    assert normalize_given_name(value).value not in names


@settings(max_examples=100)
@given(
    row=st.dictionaries(
        st.sampled_from([*IDENTITY_FIELDS, "record_id", "grade"]), ANY_VALUE, max_size=12
    )
)
def test_identity_problems_name_exactly_the_missing_fields(row: dict[str, object]) -> None:
    identity = normalize_identity(row, US)
    assert isinstance(identity, NormalizedIdentity)
    missing = {field for field in IDENTITY_FIELDS if getattr(identity, field) is None}
    assert set(identity.problems) == missing
    assert identity.sex is None or isinstance(identity.sex, Sex)


def test_twenty_thousand_characters_are_refused_as_too_long_everywhere() -> None:
    for value in ("a" * 20_000, "7" * 20_000, "\x00" * 20_000, "é" * 20_000):
        for name, function in FIELD_FUNCTIONS.items():
            assert function(value).reason is MissingReason.TOO_LONG, (name, value[:3])


def test_long_padding_is_stripped_before_the_length_check() -> None:
    # Fixed-width exports pad CHAR(500) columns with spaces: the value inside counts.
    padded = "José" + " " * 20_000
    assert normalize_given_name(padded).value == "JOSE"
    assert normalize_ssn(" " * 300 + "223-45-6789").value == "223456789"


def test_nul_and_control_characters_never_leak_into_values() -> None:
    assert normalize_given_name("Jo\x00se\x1f").value == "JOSE"
    assert normalize_city("Rich\x00mond").value == "RICH MOND"
    assert normalize_given_name("\x00\x01").reason is MissingReason.NO_LETTERS


def test_numeric_edge_values_are_reasoned() -> None:
    assert normalize_ssn(10**5000).reason is MissingReason.TOO_LONG
    assert normalize_postal_code(Decimal("1E999999999"), US).reason is MissingReason.TOO_LONG
    assert normalize_postal_code(float("inf"), US).reason is MissingReason.UNPARSEABLE
    assert normalize_postal_code(Decimal("NaN"), US).reason is MissingReason.ABSENT
