"""The egress guard's rules (agency_node/services/egress_rules.py), on plain tables."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pyarrow as pa

from agency_node.services.egress_rules import (
    Finding,
    agency_id_forms,
    date_triples,
    dob_forms,
    person_identities,
    record_identity,
    scan,
    scan_agency_ids,
)

_PEOPLE = [
    ({"first_name": "VALERIE", "last_name": "HOOPER", "dob": "1973-11-24", "ssn": "223456780",
      "postal_code": "22030", "street_address": "17 BROWN LN"},
     {"first_name": "Valerie", "last_name": "Hooper", "dob": "11/24/1973",
      "street_address": "17 Brown Ln"}),
    ({"first_name": "MARIA", "middle_name": "ELENA", "last_name": "GARCIALOPEZ",
      "last_name_parts": ["GARCIA", "LOPEZ"], "dob": "2004-03-07", "ssn": "078051121",
      "postal_code": "02134", "street_address": "9 ELM ST"},
     {"first_name": "María", "last_name": "García-López", "street_address": "9 Elm St"}),
    ({"first_name": "JOSE", "last_name": "WHITE", "dob": "1990-01-02", "ssn": "345678902",
      "postal_code": "24060"}, {}),
]
_ARROW = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
          "date": pa.date32(), "boolean": pa.bool_()}


def _scan(columns: dict[str, tuple[str, list[Any]]], people=_PEOPLE) -> list[Finding]:
    identities = [record_identity(identity, raw) for identity, raw in people]
    table = pa.table({name: pa.array(values, type=_ARROW[type_])
                      for name, (type_, values) in columns.items()})
    types = {name: type_ for name, (type_, _) in columns.items()}
    return scan(table, identities, types, list(columns))


def _kinds(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.variable, f.kind) for f in findings}


def test_last_name_in_upper_case_is_refused() -> None:
    found = _scan({"alias": ("string", ["HOOPER", "Garcia-Lopez", "white"])})
    assert found == [Finding("alias", "name", 3)]


def test_dob_as_mm_dd_yyyy_and_other_orders_is_refused() -> None:
    for values in (["11/24/1973", "03/07/2004", "01/02/1990"],
                   ["24.11.73", "7-3-2004", "19900102"], ["Nov 24 1973", None, None]):
        found = _scan({"ref": ("string", values)})
        assert ("ref", "dob") in _kinds(found), values


def test_ssn_with_and_without_dashes_is_refused() -> None:
    assert ("ref", "ssn") in _kinds(_scan({"ref": ("string", ["223-45-6780", None, None])}))
    assert _kinds(_scan({"ref": ("string", ["223456780", None, None])})) == {("ref", "ssn")}
    # An integer column drops the leading zero of 078051121.
    assert _kinds(_scan({"ref": ("integer", [None, 78051121, None])})) == {("ref", "ssn")}


def test_identifier_patterns_are_refused_in_string_variables() -> None:
    found = _scan({"contact": ("string", ["val@example.org", "(540) 555-0100", None]),
                   "other": ("string", ["999-88-7777", "22030-1234", "2019-07-01"])})
    assert _kinds(found) == {("contact", "email_pattern"), ("contact", "phone_pattern"),
                             ("other", "ssn_pattern"), ("other", "zip4_pattern"),
                             ("other", "date_pattern")}


def test_full_name_and_street_address_are_refused() -> None:
    found = _scan({"note": ("string", ["called Valerie Hooper", "lives at 9 Elm Street", None])})
    assert _kinds(found) == {("note", "full_name"), ("note", "street_address")}


def test_finding_never_holds_a_value() -> None:
    found = _scan({"alias": ("string", ["HOOPER", "GARCIA", "WHITE"])})
    assert "HOOPER" not in repr(found) and "GARCIA" not in repr(found)


def test_a_category_that_is_also_a_surname_is_not_refused() -> None:
    people = _PEOPLE * 4  # 12 rows; WHITE is a race code, and one person's surname
    race = ["WHITE", "BLACK", "WHITE"] * 4
    assert _scan({"race": ("string", race)}, people) == []


def test_one_character_values_never_count_as_names() -> None:
    people = [({"first_name": "J", "last_name": "Q"}, {})] * 3
    assert _scan({"grade": ("string", ["J", "Q", "K"])}, people) == []


def test_a_score_equal_to_the_zip_by_chance_is_not_refused() -> None:
    people = [({"postal_code": "22030"}, {})] + [({"postal_code": "24060"}, {})] * 9
    scores = [22030, *range(30000, 30009)]
    assert _scan({"score": ("integer", scores)}, people) == []
    # The ZIP in most rows is the ZIP: refused.
    assert _kinds(_scan({"score": ("integer", [22030] + [24060] * 9)}, people)) == {
        ("score", "postal_code")}


def test_a_declared_date_on_one_birthday_is_not_refused_but_the_dob_column_is() -> None:
    births = [dt.date(1973, 11, 24), dt.date(2004, 3, 7), dt.date(1990, 1, 2)]
    service = [dt.date(1973, 11, 24), *(dt.date(2020, 5, day) for day in range(1, 10))]
    people = [*_PEOPLE, *_PEOPLE, *_PEOPLE, _PEOPLE[0]]  # one birthday in 10 rows
    assert _scan({"seen": ("date", service)}, people) == []
    assert _kinds(_scan({"born": ("date", births)})) == {("born", "dob")}


def test_ordinary_variables_pass() -> None:
    found = _scan({"grade": ("integer", [9, 10, 12]), "gpa": ("number", [3.4, 2.9, 3.9]),
                   "school": ("string", ["Lincoln High", "Oak Middle", "Central"]),
                   "year": ("integer", [2019, 2020, 2021]),
                   "fiscal": ("string", ["FY2016", "2019-20", "N/A"]),
                   "flag": ("boolean", [True, False, None])})
    assert found == []


def test_date_forms() -> None:
    assert (11, 24, 1973) in dob_forms(dt.date(1973, 11, 24))
    assert (24, 11, 73) in dob_forms(dt.date(1973, 11, 24))
    assert date_triples("24-Nov-1973") == {(24, 11, 1973)}
    assert date_triples("FY2016") == frozenset()


def test_scan_of_100k_rows_is_fast() -> None:
    people = _PEOPLE * 34_000
    values = ["A", "B", "C"] * 34_000
    started = time.perf_counter()
    assert _scan({"code": ("string", values), "n": ("integer", list(range(len(values))))},
                 people) == []
    assert time.perf_counter() - started < 30


# --- agency identifiers: local record ids and agency person ids ---------------------------

_OWN = [agency_id_forms("K12-0001") | agency_id_forms("0012345678"),
        agency_id_forms("K12-0002") | agency_id_forms("0087654321"),
        agency_id_forms("K12-0003")]  # a row without a person id


def test_agency_id_equal_to_the_rows_own_id_refused() -> None:
    columns = {"student_number": [12345678, 5, None],  # leading zeros lost as a number
               "note": ["k12-0001 ", "ok", "fine"]}
    assert scan_agency_ids(columns, _OWN, anywhere=()) == [
        Finding("student_number", "agency_id", 1), Finding("note", "agency_id", 1)]


def test_agency_id_of_another_row_refused_where_it_is_looked_for_anywhere() -> None:
    # A sibling's student id in a text variable, an agency id as the hub's person id.
    columns = {"sibling_id": [None, "0012345678", None],
               "person_id": ["hub-00000001", "hub-00000002", "K12-0002"],
               "score": [87654321, 1, 2]}  # a number: compared with its own row only
    assert scan_agency_ids(columns, _OWN, anywhere={"sibling_id", "person_id"}) == [
        Finding("sibling_id", "agency_id", 1), Finding("person_id", "agency_id", 1)]


def test_short_agency_ids_and_other_values_pass() -> None:
    own = [agency_id_forms("7") | agency_id_forms("0042"), agency_id_forms("K12-0002")]
    assert agency_id_forms("0042") == frozenset()
    columns = {"grade": [7, 42], "school": ["7", "K12-00021"], "flag": [True, False]}
    assert scan_agency_ids(columns, own, anywhere={"school"}) == []


def test_person_rows_are_compared_with_every_identity_version_of_the_person() -> None:
    maiden = record_identity({"first_name": "MARIA", "last_name": "GARCIA",
                              "dob": "2004-03-07"}, {})
    married = record_identity({"first_name": "MARIA", "last_name": "WHITFIELD",
                               "dob": "2004-03-07", "street_address": "5 BIRCH CT"}, {})
    other = record_identity({"first_name": "JOSE", "last_name": "WHITE"}, {})
    widened = person_identities([maiden, married, other], ["P1", "P1", None])
    assert widened[0].names == widened[1].names >= {"GARCIA", "WHITFIELD", "MARIA"}
    assert widened[0].addresses == married.addresses and widened[0].last == "GARCIA"
    assert widened[2] == other
    # A "previous surname" variable in the married row is the person's own maiden name.
    table = pa.table({"maiden_name": pa.array(["X", "Garcia", None], type=pa.string())})
    assert scan(table, widened, {"maiden_name": "string"}, ["maiden_name"]) == [
        Finding("maiden_name", "name", 1)]
    assert scan(table, [maiden, married, other], {"maiden_name": "string"},
                ["maiden_name"]) == []
