"""Content detectors of node init: each identifying kind is recognised from values alone,
and ordinary data (codes, amounts, school names, years) is not."""

from __future__ import annotations

import pytest

from agency_node.ingest.detect import ColumnProfile, date_order_of, detect, is_date_like


def profile(values: list[str]) -> ColumnProfile:
    result = ColumnProfile()
    for value in values:
        result.add(value)
    return result


def kind(values: list[str]) -> str | None:
    found = detect(profile(values))
    return found.kind if found else None


GIVEN = ["Valerie", "James", "maria", "DESHAWN", "Emily", "Robert", "Ana", "Kevin", "Linda",
         "Jose", "Karen", "Michael"]
SURNAMES = ["HOOPER", "Smith", "garcia", "NGUYEN", "Johnson", "Brown", "Lopez", "Miller",
            "Davis", "Wilson", "Martinez", "Taylor"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (GIVEN, "first_name"),
        (SURNAMES, "last_name"),
        ([f"{g} {s}" for g, s in zip(GIVEN, SURNAMES, strict=True)], "full_name"),
        (["11/24/1973", "03/07/2004", "12/31/1959", "01/02/1988", "07/04/1966", "02/28/1995",
          "10/10/1980", "05/05/2010", "09/19/1949", "06/30/1977", "08/08/2001", "04/01/1990"],
         "dob"),
        (["1973.11.24", "2004-03-07", "1959/12/31", "1988-01-02", "1966-07-04", "1995-02-28",
          "1980-10-10", "2010-05-05", "1949-09-19", "1977-06-30", "2001-08-08", "1990-04-01"],
         "dob"),
        (["223-45-6780", "078-05-1121", "345-67-8902", "123-45-6789"], "ssn"),
        (["223456780", "412345678", "345678902", "501234567"], "ssn_like"),
        (["(804) 555-0142", "703.555.0199", "+1 540 555 0100", "434-555-0123 x12"], "phone"),
        (["valerie.hooper@example.org", "jsmith@mail.example.com", "a.b@example.net"], "email"),
        (["17 BROWN LN", "1200 Main Street", "45 N Oak Ave Apt 3", "PO BOX 112",
          "9 Elm Ct"], "street_address"),
        (["23220-1234", "22030", "24060", "23455-0001"], "postal_code"),
        (["M", "F", "F", "M", "U"], "sex"),
        (["Male", "Female", "Female"], "sex"),
        ([f"C{n:07d}" for n in range(100, 160)], "identifier"),
    ],
)
def test_identifying_values_are_recognised(values: list[str], expected: str) -> None:
    assert kind(values) == expected


@pytest.mark.parametrize(
    "values",
    [
        # school codes repeat and are not names, even with letters in them
        ["0042", "0107", "0042", "JHS", "ES12", "0107", "0042", "JHS"] * 5,
        # school and college names hold a given name or two, but are not names
        ["Jefferson Elementary School", "George Mason University", "William & Mary",
         "Northern Virginia Community College", "Lee High School"],
        # amounts (with N/A), test scores, grades, yes/no, NAICS codes
        ["123.45", "N/A", "88.10", "910.00", "N/A", "12.5"] * 10,
        [str(n) for n in range(200, 260)],
        ["KG", "01", "02", "09", "10", "12"],
        ["yes", "no", "Y", "N"],
        ["541511", "611110", "622110", "541511"],
        # enrolment dates span a few years: data, not birth dates
        ["09/01/2019", "09/03/2020", "01/15/2021", "08/30/2022"],
        # fiscal years
        ["FY2016", "FY2017", "2019-20", "FY2018"],
        [],
    ],
)
def test_ordinary_data_is_not_identifying(values: list[str]) -> None:
    assert kind(values) is None


def test_first_names_under_a_meaningless_header_are_names() -> None:
    # what the header says plays no part in detect(): COL7 of given names is a name column
    assert kind(GIVEN * 3) == "first_name"


def test_missing_markers_are_not_evidence() -> None:
    found = detect(profile(["N/A", "", "NULL", "-"] * 5 + SURNAMES))
    assert found is not None and found.kind == "last_name" and found.share == 1.0


@pytest.mark.parametrize(
    ("values", "order"),
    [(["03/07/2004", "11/24/1973"], "MDY"), (["24/11/1973", "03/07/2004"], "DMY"),
     (["03/07/2004", "01.02.1999"], ""), (["24-11-1973", "25-12-1970", "11-13-1980"], "DMY")],
)
def test_date_order_is_what_most_proving_dates_need(values: list[str], order: str) -> None:
    assert date_order_of(values) == order


def test_dates_in_every_accepted_separator_are_dates() -> None:
    assert is_date_like(profile(["03/07/2004", "03-07-2004", "03.07.2004", "2004-03-07"]))
    assert not is_date_like(profile(["FY2016", "2019-20", "ninth"]))
