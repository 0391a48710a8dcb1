"""Attribute values from strings: dates per date_order, missing-value tokens, codes that
stay codes, years from fiscal and school years and dates; every error names the format."""

from __future__ import annotations

import pytest

from agency_node.ingest.columns import (
    MISSING_TOKENS,
    infer_type,
    is_missing,
    looks_like_code,
    parse_value,
    parse_year,
)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [("03/07/2004", "MDY", "2004-03-07"), ("03/07/2004", "DMY", "2004-07-03"),
     ("3-7-2004", "MDY", "2004-03-07"), ("2004-03-07", "DMY", "2004-03-07"),
     ("2004/3/7", "MDY", "2004-03-07"), ("20040307", "DMY", "2004-03-07"),
     ("03/07/2004 12:00:00 AM", "MDY", "2004-03-07"), ("2004-03-07T00:00:00Z", "MDY",
                                                      "2004-03-07")],
)
def test_date_attribute_follows_date_order(text: str, order: str, expected: str) -> None:
    assert parse_value(text, "date", date_order=order) == expected


@pytest.mark.parametrize(
    ("text", "type_", "order", "message"),
    [("24/11/2019", "date", "MDY", "MM/DD/YYYY (date_order MDY)"),
     ("11/24/2019", "date", "DMY", "DD/MM/YYYY (date_order DMY)"),
     ("03/07/04", "date", "MDY", "YYYY-MM-DD"),
     ("ninth", "integer", "MDY", "expected an integer"),
     ("1.5", "integer", "MDY", "expected an integer"),
     ("abc", "number", "MDY", "expected a number"),
     ("inf", "number", "MDY", "expected a number"),
     ("maybe", "boolean", "MDY", "expected true/false")],
)
def test_type_errors_name_the_expected_format(text: str, type_: str, order: str,
                                              message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_value(text, type_, date_order=order)


@pytest.mark.parametrize("text", ["", "  ", "N/A", "n/a", "NULL", "null", "-", "NA", "#N/A",
                                  "NaN", "."])
@pytest.mark.parametrize("type_", ["string", "integer", "number", "boolean", "date"])
def test_missing_value_tokens_are_missing_for_every_type(text: str, type_: str) -> None:
    assert is_missing(text)
    assert parse_value(text, type_) is None


def test_one_missing_token_does_not_make_a_number_a_string() -> None:
    assert infer_type(["12.5", "N/A", "7", "NULL", "-"]) == "number"
    assert infer_type(["1", "N/A", "3"]) == "integer"
    assert "none" not in MISSING_TOKENS  # a real category in many code lists


@pytest.mark.parametrize(
    ("column", "values"),
    [("grade", ["09", "10", "11"]),                          # a leading zero
     ("INDUSTRY_CD", ["11", "21", "54"]),                    # named like a code
     ("naics", ["541511", "622110"]),
     ("employer", ["541511", "622110", "311812", "236220", "541330", "621111", "611110",
                   "524113", "722511", "445110"])],          # fixed width, five digits up
)
def test_codes_stay_codes(column: str, values: list[str]) -> None:
    assert looks_like_code(column, values)
    assert infer_type(values, column=column) == "string"


def test_counts_are_still_integers() -> None:
    values = [str(n) for n in (3, 12, 140, 7, 55, 1000, 2, 9, 31, 18)]
    assert not looks_like_code("days_enrolled", values)
    assert infer_type(values, column="days_enrolled") == "integer"


@pytest.mark.parametrize(
    ("text", "year"),
    [("FY2016", 2016), ("FY16", 2016), ("fy 2016", 2016), ("2019-20", 2019),
     ("SY 2019-2020", 2019), ("11/24/1973", 1973), ("1973-11-24", 1973), ("20190315", 2019),
     ("N/A", None), ("", None), ("19", None), ("ninth", None)],
)
def test_years_from_fiscal_and_school_years_and_dates(text: str, year: int | None) -> None:
    assert parse_year(text) == year
