"""The column plan of node init: names and values together, the steward's explicit choices
winning, identifying columns never offered as variables without a recorded override."""

from __future__ import annotations

import pytest

from agency_node.errors import ConfigError, SourceError
from agency_node.ingest.detect import ColumnProfile
from agency_node.ingest.plan import Choices, Plan, build_plan, header_field, linkage_warnings
from protocol.identity import IDENTITY_FIELDS

from .conftest import EXPORT_HEADER, GIVEN, export_rows


def profiles_of(header: list[str], rows: list[list[str]]) -> dict[str, ColumnProfile]:
    profiles = {column: ColumnProfile() for column in header}
    for row in rows:
        for column, value in zip(header, row, strict=True):
            profiles[column].add(value)
    return profiles


def export_plan(choices: Choices | None = None, n: int = 120) -> Plan:
    rows = export_rows(n)
    return build_plan(EXPORT_HEADER, profiles_of(EXPORT_HEADER, rows), choices or Choices())


IDENTIFYING = {"CLIENT_ID", "FIRST_NM", "LAST_NM", "BIRTH_DT", "SSN", "GENDER_CD",
               "ADDR_LINE_1", "CITY_NM", "ZIP_CD", "alt_ssn", "student_email", "guardian_name",
               "phone", "CASE_WORKER"}


@pytest.mark.parametrize(
    ("column", "field"),
    [("FIRST_NM", "first_name"), ("LAST_NM", "last_name"), ("BIRTH_DT", "dob"),
     ("GENDER_CD", "sex"), ("ADDR_LINE_1", "street_address"), ("CITY_NM", "city"),
     ("ZIP_CD", "postal_code"), ("SSN", "ssn"), ("client_first_name", "first_name"),
     ("DateOfBirth", "dob"), ("MIDDLE_INIT", None), ("mi", "middle_name"),
     ("social_security_no", "ssn"), ("home_zip", "postal_code"), ("alt_ssn", None),
     ("guardian_name", None), ("birth_year", None), ("FISCAL_YR", None), ("school_name", None),
     ("zip3", None), ("COL7", None)],
)
def test_header_field(column: str, field: str | None) -> None:
    assert header_field(column) == field


def test_issue_export_is_mapped_with_no_option() -> None:
    plan = export_plan()
    assert plan.record_id == "CLIENT_ID"
    assert plan.identity == {
        "first_name": "FIRST_NM", "last_name": "LAST_NM", "dob": "BIRTH_DT", "ssn": "SSN",
        "sex": "GENDER_CD", "street_address": "ADDR_LINE_1", "city": "CITY_NM",
        "postal_code": "ZIP_CD"}
    assert plan.year_column == "FISCAL_YR"
    assert (plan.date_order, plan.date_order_reason) == (
        "MDY", "'BIRTH_DT' has dates only MDY can read")
    assert set(plan.ignore) == {"alt_ssn", "student_email", "guardian_name", "phone",
                                "CASE_WORKER"}
    assert plan.attributes == ["FISCAL_YR", "BENEFIT_AMT", "PROGRAM_CD", "SCHOOL_CD"]
    assert not IDENTIFYING & set(plan.attributes)
    assert "SSN" in plan.ignore["alt_ssn"] and "e-mail" in plan.ignore["student_email"]
    assert "full names" in plan.ignore["guardian_name"]
    assert plan.warnings == []


def test_every_column_gets_exactly_one_decision_with_a_reason() -> None:
    plan = export_plan()
    assert [d.column for d in plan.decisions] == EXPORT_HEADER
    assert all(d.reason for d in plan.decisions if d.outcome != "variable")


def test_a_column_of_names_under_a_meaningless_header_is_mapped() -> None:
    header = ["record_id", "COL7", "score"]
    rows = [[str(i), GIVEN[i % len(GIVEN)], str(i % 9)] for i in range(40)]
    plan = build_plan(header, profiles_of(header, rows), Choices())
    assert plan.identity == {"first_name": "COL7"}
    assert "given names" in plan.decisions[1].reason
    assert plan.attributes == ["score"]


def test_day_first_birth_dates_set_dmy() -> None:
    header = ["record_id", "BIRTH_DT"]
    rows = [[str(i), f"{13 + i % 15:02d}/{1 + i % 12:02d}/{1950 + i}"] for i in range(40)]
    plan = build_plan(header, profiles_of(header, rows), Choices())
    assert plan.date_order == "DMY"


def test_explicit_choices_win() -> None:
    plan = export_plan(Choices(identity={"first_name": "guardian_name"}, record_id="SSN",
                               year_column="", date_order="DMY"))
    assert plan.record_id == "SSN" and plan.year_column == "" and plan.date_order == "DMY"
    assert plan.identity["first_name"] == "guardian_name"
    # FIRST_NM is still a name: with first_name taken it is ignored, never a variable
    assert "first_name" in plan.ignore["FIRST_NM"]
    assert "FISCAL_YR" in plan.attributes


def test_steward_override_offers_a_flagged_column_and_keeps_the_reason() -> None:
    plan = export_plan(Choices(override={"CASE_WORKER": "staff names, never a client's"}))
    assert "CASE_WORKER" in plan.attributes and "CASE_WORKER" not in plan.ignore
    assert plan.override == {"CASE_WORKER": "staff names, never a client's"}
    assert "full names" in plan.flagged["CASE_WORKER"]
    decision = next(d for d in plan.decisions if d.column == "CASE_WORKER")
    assert decision.outcome == "override" and "staff names" in decision.reason


def test_override_of_a_column_that_is_not_flagged_refused() -> None:
    with pytest.raises(ConfigError, match="not an ignored identifying column"):
        export_plan(Choices(override={"BENEFIT_AMT": "why not"}))


def test_override_without_reason_refused() -> None:
    with pytest.raises(ConfigError, match="needs a reason"):
        export_plan(Choices(override={"phone": " "}))


def test_choice_naming_an_unknown_column_refused() -> None:
    with pytest.raises(ConfigError, match="no column 'FIRST_NAME'"):
        export_plan(Choices(identity={"first_name": "FIRST_NAME"}))


def test_choice_naming_an_unknown_field_refused() -> None:
    with pytest.raises(ConfigError, match="not identity fields: given"):
        export_plan(Choices(identity={"given": "FIRST_NM"}))


def test_no_unique_id_column_refused_with_the_option_to_use() -> None:
    header = ["CLIENT_ID", "FIRST_NM"]
    rows = [["7", "Ana"], ["7", "Jose"]]
    with pytest.raises(SourceError, match="--record-id"):
        build_plan(header, profiles_of(header, rows), Choices())


def test_linkage_on_ssn_alone_warns() -> None:
    [warning] = linkage_warnings({"ssn": "SSN"})
    assert "first_name, last_name, dob" in warning and "ssn" in warning
    assert "never link" in warning
    assert linkage_warnings({f: f for f in IDENTITY_FIELDS}) == []
    plan = export_plan(Choices(ignore={"FIRST_NM": "x", "LAST_NM": "x", "BIRTH_DT": "x"},
                               identity={"ssn": "SSN"}))
    assert plan.warnings and "first_name" in plan.warnings[0]
    assert {"FIRST_NM", "LAST_NM", "BIRTH_DT"} <= set(plan.ignore)
