"""SSNs, postal codes and sex codes."""

from __future__ import annotations

import datetime as dt

import pytest

from protocol.identity import MissingReason, Sex
from protocol.normalize import (
    NormalizationOptions,
    normalize_postal_code,
    normalize_sex,
    normalize_ssn,
)

US = NormalizationOptions(today=dt.date(2025, 6, 1))
ANY = NormalizationOptions(today=dt.date(2025, 6, 1), postal_code_format="any")


@pytest.mark.parametrize(
    "raw",
    ["223-45-6789", "223456789", "223 45 6789", " 223-45-6789 ", "223.45.6789",
     "SSN: 223-45-6789", 223456789, 223456789.0, "223456789.0", "２２３-４５-６７８９"],
)  # fmt: skip
def test_ssn_spellings(raw: object) -> None:
    assert normalize_ssn(raw).value == "223456789"


def test_ssn_lost_leading_zeros_are_restored_only_for_bare_digits() -> None:
    assert normalize_ssn(23456789).value == "023456789"
    assert normalize_ssn("3456789").value == "003456789"
    assert normalize_ssn("23456789").value == "023456789"
    # Digits written with separators must already be nine: a missing digit is not a zero.
    assert normalize_ssn("23-45-6789").reason is MissingReason.UNPARSEABLE


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, MissingReason.ABSENT),
        ("", MissingReason.ABSENT),
        ("  -  ", MissingReason.UNPARSEABLE),
        ("1234", MissingReason.UNPARSEABLE),
        ("XXX-XX-1234", MissingReason.UNPARSEABLE),
        ("2234567890", MissingReason.UNPARSEABLE),
        ("000-12-3456", MissingReason.INVALID_SSN),
        ("666-12-3456", MissingReason.INVALID_SSN),
        ("900-12-3456", MissingReason.INVALID_SSN),
        ("999-12-3456", MissingReason.INVALID_SSN),
        ("223-00-4567", MissingReason.INVALID_SSN),
        ("223-45-0000", MissingReason.INVALID_SSN),
        ("123-45-6789", MissingReason.PLACEHOLDER),
        ("111-11-1111", MissingReason.PLACEHOLDER),
        ("999999999", MissingReason.PLACEHOLDER),
        ("000000000", MissingReason.PLACEHOLDER),
        ("078-05-1120", MissingReason.PLACEHOLDER),
        (78051120, MissingReason.PLACEHOLDER),
        ("219-09-9999", MissingReason.PLACEHOLDER),
        (False, MissingReason.UNPARSEABLE),
    ],
)
def test_ssn_missing_reasons(raw: object, reason: MissingReason) -> None:
    assert normalize_ssn(raw).reason is reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("23220", "23220"),
        ("23220-1234", "23220"),
        ("232201234", "23220"),
        ("23220 - 1234", "23220"),
        ("02134", "02134"),
        (2134, "02134"),
        (2134.0, "02134"),
        ("2134", "02134"),
        ("2134.0", "02134"),
        ("00601", "00601"),
        (601, "00601"),
        (21341234, "02134"),
        ("  23220  ", "23220"),
    ],
)
def test_us_postal_code_reduces_to_zip5_with_leading_zeros(raw: object, expected: str) -> None:
    assert normalize_postal_code(raw, US).value == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", MissingReason.ABSENT),
        (None, MissingReason.ABSENT),
        ("00000", MissingReason.INVALID_POSTAL_CODE),
        ("00000-0000", MissingReason.INVALID_POSTAL_CODE),
        (0, MissingReason.UNPARSEABLE),
        ("12", MissingReason.UNPARSEABLE),
        ("123456", MissingReason.UNPARSEABLE),
        ("K1A 0B1", MissingReason.UNPARSEABLE),
        ("23220-", MissingReason.UNPARSEABLE),
        ("2322O", MissingReason.UNPARSEABLE),
    ],
)
def test_us_postal_code_missing_reasons(raw: object, reason: MissingReason) -> None:
    assert normalize_postal_code(raw, US).reason is reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2600", "2600"), (2600, "2600"), ("0800", "0800"), ("sw1a 1aa", "SW1A1AA"),
     ("K1A-0B1", "K1A0B1"), ("23220-1234", "232201234")],
)  # fmt: skip
def test_any_postal_code_keeps_upper_case_alphanumerics(raw: object, expected: str) -> None:
    assert normalize_postal_code(raw, ANY).value == expected


def test_any_postal_code_missing_reasons() -> None:
    assert normalize_postal_code("0000", ANY).reason is MissingReason.INVALID_POSTAL_CODE
    assert normalize_postal_code("ABCDEFGHIJK", ANY).reason is MissingReason.UNPARSEABLE
    assert normalize_postal_code("--", ANY).reason is MissingReason.UNPARSEABLE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("M", Sex.MALE), ("m", Sex.MALE), ("Male", Sex.MALE), ("1", Sex.MALE), (1, Sex.MALE),
     (1.0, Sex.MALE), ("F", Sex.FEMALE), ("female", Sex.FEMALE), ("2", Sex.FEMALE),
     (2, Sex.FEMALE), ("X", Sex.OTHER), ("nonbinary", Sex.OTHER), ("Non-Binary", Sex.OTHER),
     ("other", Sex.OTHER), (Sex.FEMALE, Sex.FEMALE)],
)  # fmt: skip
def test_sex_codes(raw: object, expected: Sex) -> None:
    assert normalize_sex(raw).value is expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", MissingReason.ABSENT),
        (" ", MissingReason.ABSENT),
        (None, MissingReason.ABSENT),
        ("U", MissingReason.PLACEHOLDER),
        ("unknown", MissingReason.PLACEHOLDER),
        ("0", MissingReason.PLACEHOLDER),  # ISO/IEC 5218: not known
        (9, MissingReason.PLACEHOLDER),  # ISO/IEC 5218: not applicable
        ("Q", MissingReason.UNKNOWN_CODE),
        ("3", MissingReason.UNKNOWN_CODE),
        ("MF", MissingReason.UNKNOWN_CODE),
        (True, MissingReason.UNPARSEABLE),
    ],
)
def test_sex_missing_reasons(raw: object, reason: MissingReason) -> None:
    assert normalize_sex(raw).reason is reason
