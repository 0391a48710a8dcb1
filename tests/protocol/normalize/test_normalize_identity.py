"""normalize_identity: one row → NormalizedIdentity, and the same person written differently."""

from __future__ import annotations

import datetime as dt

import pytest

from protocol.identity import IDENTITY_FIELDS, MissingReason, Sex
from protocol.normalize import NormalizationOptions, normalize_identity

TODAY = dt.date(2025, 6, 1)
MDY = NormalizationOptions(today=TODAY)
DMY = NormalizationOptions(today=TODAY, date_order="DMY")

K12_ROW = {
    "first_name": "José",
    "middle_name": "Luis",
    "last_name": "García-López Jr.",
    "dob": "03/07/2004",
    "sex": "M",
    "ssn": "223-45-6789",
    "postal_code": "23220-1234",
    "street_address": "123 North Main Street, Apt. #4",
    "city": "St. Louis",
}
WORKFORCE_ROW = {
    "first_name": "JOSE",
    "middle_name": "L.",
    "last_name": "GARCIA LOPEZ",
    "name_suffix": "JR",
    "dob": "2004-03-07",
    "sex": 1,
    "ssn": 223456789,
    "postal_code": 23220,
    "street_address": "123 N MAIN ST #4",
    "city": "SAINT LOUIS",
    "employer": "ignored: not an identity field",
}
HIGHER_ED_ROW = {
    "first_name": b"Jos\xe9",
    "last_name": "garcía-lópez, jr",
    "dob": "07/03/2004",
    "sex": "male",
    "ssn": "223 45 6789",
    "postal_code": "232201234",
    "street_address": "123 n. main st. apartment 4",
    "city": "st louis",
}

LINKED_FIELDS = ("first_name", "last_name", "name_suffix", "dob", "sex", "ssn", "postal_code",
                 "street_address", "city")  # fmt: skip


def test_same_person_written_three_ways_normalises_to_the_same_values() -> None:
    k12 = normalize_identity(K12_ROW, MDY)
    workforce = normalize_identity(WORKFORCE_ROW, MDY)
    higher_ed = normalize_identity(HIGHER_ED_ROW, DMY)
    for field in LINKED_FIELDS:
        assert getattr(k12, field) == getattr(workforce, field) == getattr(higher_ed, field), field
    assert k12.last_name_parts == workforce.last_name_parts == higher_ed.last_name_parts
    assert (k12.first_name, k12.last_name, k12.name_suffix) == ("JOSE", "GARCIALOPEZ", "JR")
    assert k12.last_name_parts == ("GARCIA", "LOPEZ")
    assert (k12.dob, k12.sex, k12.ssn) == (dt.date(2004, 3, 7), Sex.MALE, "223456789")
    assert (k12.postal_code, k12.street_address, k12.city) == (
        "23220",
        "123 N MAIN ST APT 4",
        "ST LOUIS",
    )


def test_nickname_and_formal_name_meet_through_the_canonical_names() -> None:
    bill = normalize_identity({"first_name": "Bill", "last_name": "Smith"}, MDY)
    william = normalize_identity({"first_name": "WILLIAM", "last_name": "Smith"}, MDY)
    assert bill.first_name == "BILL"
    assert william.first_name in bill.first_name_canonical
    assert william.first_name_canonical == ()


def test_every_missing_field_has_a_reason_including_absent() -> None:
    identity = normalize_identity({"first_name": "UNKNOWN", "dob": "2004-02-30"}, MDY)
    assert identity.problems == {
        "first_name": MissingReason.PLACEHOLDER,
        "middle_name": MissingReason.ABSENT,
        "last_name": MissingReason.ABSENT,
        "name_suffix": MissingReason.ABSENT,
        "dob": MissingReason.IMPOSSIBLE_DATE,
        "sex": MissingReason.ABSENT,
        "ssn": MissingReason.ABSENT,
        "postal_code": MissingReason.ABSENT,
        "street_address": MissingReason.ABSENT,
        "city": MissingReason.ABSENT,
    }
    assert not any(identity.present(field) for field in IDENTITY_FIELDS)
    assert identity.first_name_canonical == ()
    assert identity.last_name_parts == ()


def test_complete_row_has_no_problems() -> None:
    identity = normalize_identity(WORKFORCE_ROW, MDY)
    assert identity.problems == {}
    assert all(identity.present(field) for field in IDENTITY_FIELDS)


@pytest.mark.parametrize(
    ("last_name", "name_suffix", "expected", "problem"),
    [
        ("Smith Jr", None, "JR", None),  # found inside the surname
        ("Smith", "III", "III", None),  # the separate field
        ("Smith Jr", "III", "III", None),  # the separate field wins when valid
        ("Smith Jr", "MD", "JR", None),  # an unusable field falls back to the surname
        ("Smith", "MD", None, MissingReason.UNKNOWN_CODE),
        ("Smith", None, None, MissingReason.ABSENT),
    ],
)
def test_name_suffix_from_field_or_surname(
    last_name: str,
    name_suffix: str | None,
    expected: str | None,
    problem: MissingReason | None,
) -> None:
    identity = normalize_identity({"last_name": last_name, "name_suffix": name_suffix}, MDY)
    assert identity.last_name == "SMITH"
    assert identity.name_suffix == expected
    assert identity.problems.get("name_suffix") == problem


def test_options_reach_the_date_and_postal_normalisers() -> None:
    row = {"dob": "03/07/2004", "postal_code": "2600"}
    au = NormalizationOptions(today=TODAY, date_order="DMY", postal_code_format="any")
    identity = normalize_identity(row, au)
    assert identity.dob == dt.date(2004, 7, 3)
    assert identity.postal_code == "2600"
    assert normalize_identity(row, MDY).postal_code == "02600"
