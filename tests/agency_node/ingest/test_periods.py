"""Periods of longitudinal rows: every accepted spelling of each kind normalises to one
text, and anything else is refused without echoing the value."""

from __future__ import annotations

import pytest

from agency_node.ingest.periods import (
    EXPECTED,
    looks_like_period,
    parse_period,
    period_sort_key,
)


@pytest.mark.parametrize(
    ("text", "kind", "value", "year"),
    [
        ("2021", "year", "2021", 2021),
        ("CY2021", "year", "2021", 2021),
        ("2021-22", "school_year", "2021-22", 2021),
        ("2021-2022", "school_year", "2021-22", 2021),
        ("2021/22", "school_year", "2021-22", 2021),
        ("SY 2021-22", "school_year", "2021-22", 2021),
        ("AY2021-2022", "school_year", "2021-22", 2021),
        ("1999-00", "school_year", "1999-00", 1999),
        ("2021FA", "term", "2021FA", 2021),
        ("Fall 2021", "term", "2021FA", 2021),
        ("spring 2022", "term", "2022SP", 2022),
        ("2022 Summer", "term", "2022SU", 2022),
        ("FA2021", "term", "2021FA", 2021),
        ("SU22", "term", "2022SU", 2022),
        ("2021-1", "term", "2021T1", 2021),
        ("2021/2", "term", "2021T2", 2021),
        ("2021 T3", "term", "2021T3", 2021),
        ("2021Q3", "quarter", "2021Q3", 2021),
        ("2021 q3", "quarter", "2021Q3", 2021),
        ("2021-Q3", "quarter", "2021Q3", 2021),
        ("Q3 2021", "quarter", "2021Q3", 2021),
        ("2021-03-07", "date", "2021-03-07", 2021),
        ("03/07/2021", "date", "2021-03-07", 2021),
        ("20210307", "date", "2021-03-07", 2021),
    ],
)
def test_period_each_spelling_normalises_to_its_kind(text, kind, value, year):
    period = parse_period(text)
    assert (period.kind, period.value, period.year) == (kind, value, year)


def test_period_date_follows_the_date_order():
    assert parse_period("03/07/2021", date_order="DMY").value == "2021-07-03"


@pytest.mark.parametrize(
    "text", ["2021-05", "2021-23", "2021-2023", "2021Q5", "Q0 2021", "Fall", "2021FA2",
             "garbage", "13/45/2021", "21", "2021-5"],
)
def test_period_that_names_no_period_is_refused_without_the_value(text):
    with pytest.raises(ValueError) as caught:
        parse_period(text)
    assert str(caught.value) == EXPECTED


def test_period_sort_key_orders_terms_by_season_within_a_year():
    terms = ["2022FA", "2022SP", "2021FA", "2022SU"]
    assert sorted(terms, key=period_sort_key) == ["2021FA", "2022SP", "2022SU", "2022FA"]
    assert sorted(["2021Q4", "2021Q1", "2020Q3"], key=period_sort_key) == [
        "2020Q3", "2021Q1", "2021Q4"]


def test_looks_like_period_leaves_dates_and_scores_out():
    assert looks_like_period("2021-22") and looks_like_period("2021Q3")
    assert not looks_like_period("2021-03-07")  # a date column is a date variable
    assert not looks_like_period("512")
