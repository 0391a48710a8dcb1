"""protocol.identifier_names: identifier-like variable names and identifier-shaped values."""

from __future__ import annotations

import pytest

from protocol.identifier_names import (
    identifier_like,
    identifier_reason,
    identifier_value_reason,
    name_words,
)


@pytest.mark.parametrize(("name", "kind"), [
    ("FIRST_NM", "name"), ("LAST_NM", "name"), ("MIDDLE_NM", "name"), ("firstName", "name"),
    ("guardian_name", "name"), ("mother_maiden_name", "name"), ("surname", "name"),
    ("BIRTH_DT", "date of birth"), ("date_of_birth", "date of birth"), ("DOB", None),
    ("ADDR_LINE_1", "street address"), ("mailing_address", "street address"),
    ("student_email", "e-mail"), ("e_mail", "e-mail"), ("studentEmail", "e-mail"),
    ("phone", "phone"), ("homePhone", "phone"), ("alt_ssn", "ssn"),
    ("social_security_no", "ssn"), ("ZIP_CD", "postal code"), ("zip5", "postal code"),
    ("GENDER_CD", "sex"), ("CITY_NM", "city"), ("CLIENT_ID", "identifier"),
    ("id", "identifier"), ("PersonID", "identifier"), ("student_number", "identifier"),
    ("case_no", "identifier"), ("medicaid_num", "identifier"),
])
def test_identifier_like_names_are_recognised(name: str, kind: str | None) -> None:
    reason = identifier_reason(name)
    assert reason is not None
    if kind is not None:
        assert reason == kind


@pytest.mark.parametrize("name", [
    "grade", "school", "test_score", "sped_flag", "enroll_year", "degree", "gpa", "year",
    "industry", "quarterly_wage", "FISCAL_YR", "benefit_amt", "school_id", "program_name",
    "county_nm", "provider_id", "num_courses", "number_of_children", "birth_weight",
    "grade_level", "ell", "enrolled", "disability",
])
def test_ordinary_variable_names_pass(name: str) -> None:
    assert identifier_reason(name) is None


def test_canonical_identity_names_are_refused_in_any_case() -> None:
    for name in ("first_name", "SSN", "Dob", "record_id", "postal_code"):
        assert identifier_reason(name) == "canonical identity field"


def test_name_words_split_separators_camel_case_and_digits() -> None:
    assert name_words("ADDR_LINE_1") == ("addr", "line", "1")
    assert name_words("studentEmailAddr2") == ("student", "email", "addr", "2")


def test_identifier_like_lists_only_the_identifying_names() -> None:
    assert identifier_like(["grade", "FIRST_NM", "gpa", "alt_ssn"]) == {
        "FIRST_NM": "name", "alt_ssn": "ssn"}


@pytest.mark.parametrize(("value", "kind"), [
    ("223-45-6780", "ssn_pattern"), ("ssn 223 45 6780", "ssn_pattern"),
    ("val@example.org", "email_pattern"), ("(540) 555-0100", "phone_pattern"),
    ("540.555.0100", "phone_pattern"), ("22030-1234", "zip4_pattern"),
    ("FY2016", None), ("2019-20", None), ("2019-07-01", None), ("12345", None), (7, None),
])
def test_identifier_shaped_values(value: object, kind: str | None) -> None:
    assert identifier_value_reason(value) == kind
