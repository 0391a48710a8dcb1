"""k-anonymity on declared quasi-identifiers: hand-made tables with known answers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from hub.disclosure.generalise import ladder_for, nice_width
from hub.disclosure.kanon import k_anonymise, small_class_rows


def _frame(**columns: list[object]) -> pd.DataFrame:
    index = [f"p{i + 1}" for i in range(len(next(iter(columns.values()))))]
    return pd.DataFrame(columns, index=index)


def test_k_anonymous_table_is_left_alone() -> None:
    frame = _frame(sex=["F", "F", "M", "M"], grade=[3, 3, 4, 4])
    result = k_anonymise(frame, types={"sex": "string", "grade": "integer"}, k=2)
    assert (result.rows_below_k_before, result.rows_below_k_after) == (0, 0)
    assert {v.rule for v in result.variables.values()} == {"none"}
    assert result.values("grade").tolist() == [3, 3, 4, 4]


def test_generalise_dates_to_years_then_suppress_the_outlier() -> None:
    frame = _frame(
        birth_date=[dt.date(2004, 3, 1), dt.date(2004, 5, 2), dt.date(2004, 7, 3),
                    dt.date(2004, 9, 4), dt.date(2005, 1, 1), dt.date(2005, 2, 1),
                    dt.date(2005, 3, 1), dt.date(2005, 4, 1)],
        sex=["F", "F", "F", "F", "M", "M", "M", "F"],
    )
    result = k_anonymise(frame, types={"birth_date": "date", "sex": "string"}, k=3)
    report = result.report()
    assert (report["classes_below_k_before"], report["rows_below_k_before"]) == (8, 8)
    assert (report["classes_below_k_after"], report["rows_below_k_after"]) == (0, 0)
    # Years leave one (2005, F) row alone; it is within the allowance, so it is suppressed:
    # birth year first (ties on distinct values go by name), then sex.
    assert report["variables"]["birth_date"] == {
        "rule": "date→year; local suppression", "level": 1, "cells_suppressed": 1,
        "classes_below_k_before": 8, "classes_below_k_after": 0}
    assert report["variables"]["sex"] == {
        "rule": "local suppression", "level": 0, "cells_suppressed": 1,
        "classes_below_k_before": 0, "classes_below_k_after": 0}
    assert result.values("birth_date").tolist() == ["2004"] * 4 + ["2005"] * 3 + [pd.NA]
    assert result.values("sex").tolist() == ["F"] * 4 + ["M"] * 3 + [None]
    assert not result.blocked


def test_generalise_zip_to_zip3_and_age_to_bands() -> None:
    frame = _frame(zip=["22030", "22031", "22032", "22033", "23220", "23221"],
                   age=[31, 32, 33, 34, 51, 52])
    result = k_anonymise(frame, types={"zip": "string", "age": "integer"}, k=2)
    # No single step helps (the other variable keeps every row unique), so a Datafly step
    # coarsens the variable with most distinct values (a tie: declared order, zip); then
    # 5-year age bands make every class at least 2. Nothing is suppressed.
    assert result.values("zip").tolist() == ["220"] * 4 + ["232"] * 2
    assert result.values("age").tolist() == ["30–34"] * 4 + ["50–54"] * 2
    assert result.variables["zip"].rule == "ZIP5→ZIP3"
    assert result.variables["age"].rule == "age→5-year band"
    assert sum(v.cells_suppressed for v in result.variables.values()) == 0
    assert result.rows_below_k_after == 0


def test_suppress_policy_blanks_only_rows_in_small_classes() -> None:
    frame = _frame(zip=["22030", "22030", "22031", "22030"], age=[30, 30, 30, 41])
    result = k_anonymise(frame, types={"zip": "string", "age": "integer"}, k=2,
                         policy="suppress")
    # Rows p3 and p4 are alone; age goes first (tie on 2 distinct values, by name), which
    # leaves both alone, then zip.
    assert result.values("age").tolist() == [30, 30, None, None]
    assert result.values("zip").tolist() == ["22030", "22030", None, None]
    assert result.variables["age"].cells_suppressed == 2
    assert result.variables["zip"].cells_suppressed == 2
    assert result.variables["age"].level == 0
    assert (result.classes_below_k_before, result.classes_below_k_after) == (2, 0)


def test_block_policy_changes_nothing_and_reports() -> None:
    frame = _frame(sex=["F", "F", "M"], grade=[3, 3, 4])
    result = k_anonymise(frame, types={"sex": "string", "grade": "integer"}, k=2,
                         policy="block")
    assert result.blocked
    assert (result.classes_below_k_before, result.rows_below_k_before) == (1, 1)
    assert (result.classes_below_k_after, result.rows_below_k_after) == (1, 1)
    assert result.values("grade").tolist() == [3, 3, 4]


def test_missing_is_a_value_and_all_missing_rows_never_violate() -> None:
    keys = pd.DataFrame({"a": ["x", "x", None, None], "b": ["1", None, None, "2"]})
    from hub.disclosure.kanon import class_keys

    keys = keys.apply(class_keys)
    # (x,1) alone, (x,-) alone, (-,-) all missing, (-,2) alone.
    assert small_class_rows(keys, 2).tolist() == [True, True, False, True]


def test_numeric_bands_use_nice_widths() -> None:
    assert nice_width(37) == 5
    assert nice_width(100) == 10
    assert nice_width(0.9) == pytest.approx(0.1)
    steps = ladder_for("test_score", "number", pd.Series([100.0, 137.0]))
    assert [s.rule for s in steps] == ["numeric→band of 5", "numeric→band of 10",
                                       "numeric→band of 25"]
    assert steps[0].apply(pd.Series([101.5, None])).tolist() == ["[100, 105)", pd.NA]
    assert ladder_for("disability", "boolean", pd.Series([True])) == []
    assert ladder_for("school", "string", pd.Series(["Oak"])) == []


def test_bad_parameters_refused() -> None:
    frame = _frame(sex=["F"])
    with pytest.raises(ValueError, match="k must be"):
        k_anonymise(frame, types={}, k=1)
    with pytest.raises(ValueError, match="policy"):
        k_anonymise(frame, types={}, policy="ignore")  # type: ignore[arg-type]
