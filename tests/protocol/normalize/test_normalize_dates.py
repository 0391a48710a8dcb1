"""Birth dates: formats, two-digit-year pivot, impossible, out-of-range and stand-in dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from protocol.identity import MissingReason
from protocol.normalize import NormalizationOptions, normalize_dob

TODAY = dt.date(2025, 6, 1)
MDY = NormalizationOptions(today=TODAY)
DMY = NormalizationOptions(today=TODAY, date_order="DMY")
MARCH_7 = dt.date(2004, 3, 7)


@pytest.mark.parametrize(
    "raw",
    [
        "2004-03-07",
        "2004-3-7",
        "2004/03/07",
        "2004-03-07T00:00:00",
        "2004-03-07T13:45:10.123456Z",
        "2004-03-07 00:00:00.000",
        "2004-03-07T00:00:00+05:30",
        "03/07/2004",
        "3/7/2004",
        "03-07-2004",
        "03.07.2004",
        "03/07/04",
        "3/7/2004 12:00:00 AM",
        "03/07/2004 0:00",
        "20040307",
        20040307,
        20040307.0,
        "07-MAR-2004",
        "07-Mar-04",
        "7 March 2004",
        "March 7, 2004",
        "Mar. 7th, 2004",
        "MAR 7 2004",
        "  2004-03-07 ",
        "２００４-０３-０７",  # full-width digits
        MARCH_7,
        dt.datetime(2004, 3, 7, 23, 59),
        dt.datetime(2004, 3, 7, tzinfo=dt.UTC),
    ],
)
def test_accepted_spellings_of_the_same_date(raw: object) -> None:
    assert normalize_dob(raw, MDY).value == MARCH_7


def test_month_name_abbreviations() -> None:
    assert normalize_dob("Sept 7, 2004", MDY).value == dt.date(2004, 9, 7)
    assert normalize_dob("7-sep-2004", MDY).value == dt.date(2004, 9, 7)
    assert normalize_dob("7 Septembre 2004", MDY).reason is MissingReason.UNPARSEABLE


def test_date_order_decides_slash_dates_only() -> None:
    assert normalize_dob("03/07/2004", DMY).value == dt.date(2004, 7, 3)
    assert normalize_dob("13/07/2004", DMY).value == dt.date(2004, 7, 13)
    # ISO, compact and month-name dates are unambiguous whatever the order.
    assert normalize_dob("2004-03-07", DMY).value == MARCH_7
    assert normalize_dob("20040307", DMY).value == MARCH_7
    assert normalize_dob("07-MAR-2004", DMY).value == MARCH_7


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03/07/25", dt.date(2025, 3, 7)),  # yy equal to today's yy: this century
        ("03/07/26", dt.date(1926, 3, 7)),  # greater than today's yy: last century
        ("03/07/99", dt.date(1999, 3, 7)),
        ("03/07/00", dt.date(2000, 3, 7)),
        ("07-MAR-60", dt.date(1960, 3, 7)),
    ],
)
def test_two_digit_years_pivot_on_today(raw: str, expected: dt.date) -> None:
    assert normalize_dob(raw, MDY).value == expected


def test_pivot_follows_the_reference_date() -> None:
    later = NormalizationOptions(today=dt.date(2030, 1, 1))
    assert normalize_dob("03/07/28", later).value == dt.date(2028, 3, 7)
    assert normalize_dob("03/07/28", MDY).value == dt.date(1928, 3, 7)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, MissingReason.ABSENT),
        ("", MissingReason.ABSENT),
        (float("nan"), MissingReason.ABSENT),
        ("2004-02-30", MissingReason.IMPOSSIBLE_DATE),
        ("02/30/2004", MissingReason.IMPOSSIBLE_DATE),
        ("2004-13-01", MissingReason.IMPOSSIBLE_DATE),
        ("13/01/2004", MissingReason.IMPOSSIBLE_DATE),  # month 13 when read MDY
        ("2003-02-29", MissingReason.IMPOSSIBLE_DATE),
        ("20041301", MissingReason.IMPOSSIBLE_DATE),
        ("2004-00-00", MissingReason.IMPOSSIBLE_DATE),
        ("2025-06-02", MissingReason.OUT_OF_RANGE),  # tomorrow
        ("1899-12-31", MissingReason.OUT_OF_RANGE),
        (dt.date(1850, 5, 5), MissingReason.OUT_OF_RANGE),
        ("1900-01-01", MissingReason.PLACEHOLDER),
        ("01/01/1901", MissingReason.PLACEHOLDER),
        ("1800-01-01", MissingReason.PLACEHOLDER),
        ("9999-12-31", MissingReason.PLACEHOLDER),
        ("0000-00-00", MissingReason.PLACEHOLDER),
        ("00/00/0000", MissingReason.PLACEHOLDER),
        ("00/00/00", MissingReason.PLACEHOLDER),
        ("00000000", MissingReason.PLACEHOLDER),
        ("38053", MissingReason.UNPARSEABLE),  # an Excel serial number
        (38053, MissingReason.UNPARSEABLE),
        (38053.0, MissingReason.UNPARSEABLE),
        ("03072004", MissingReason.UNPARSEABLE),  # MMDDYYYY is not guessed
        ("2004-03", MissingReason.UNPARSEABLE),
        ("yesterday", MissingReason.UNPARSEABLE),
        ("07-XYZ-2004", MissingReason.UNPARSEABLE),
        ("2004-03/07", MissingReason.UNPARSEABLE),  # mixed separators
        (True, MissingReason.UNPARSEABLE),
        (Decimal("Infinity"), MissingReason.UNPARSEABLE),
    ],
)
def test_dob_missing_reasons(raw: object, reason: MissingReason) -> None:
    assert normalize_dob(raw, MDY).reason is reason


def test_today_is_accepted_and_default_options_use_the_clock() -> None:
    assert normalize_dob(TODAY.isoformat(), MDY).value == TODAY
    assert normalize_dob(dt.date.today().isoformat()).value == dt.date.today()
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert normalize_dob(tomorrow.isoformat()).reason is MissingReason.OUT_OF_RANGE


def test_pandas_missing_values_are_absent() -> None:
    pandas = pytest.importorskip("pandas")
    assert normalize_dob(pandas.NaT, MDY).reason is MissingReason.ABSENT
    assert normalize_dob(pandas.NA, MDY).reason is MissingReason.ABSENT
    assert normalize_dob(pandas.Timestamp("2004-03-07 10:00"), MDY).value == MARCH_7
