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


# --- Longitudinal frames: classes are counted in distinct persons, not rows ---------------


def test_three_rows_of_one_person_are_a_class_of_one_and_block() -> None:
    frame = pd.DataFrame({"school": ["Pine", "Pine", "Pine", "Oak", "Oak", "Oak"]})
    persons = pd.Series(["p1", "p1", "p1", "p2", "p3", "p4"])
    result = k_anonymise(frame, types={"school": "string"}, k=3, policy="block",
                         persons=persons)
    assert result.blocked
    assert (result.classes_below_k_before, result.rows_below_k_before) == (1, 3)
    assert (result.persons, result.persons_below_k_before) == (4, 1)
    assert result.variables["school"].classes_below_k_before == 1
    # The same rows as three people are a safe class.
    alone = k_anonymise(frame, types={"school": "string"}, k=3, policy="block")
    assert not alone.blocked and alone.persons_below_k_before == 0


def test_three_distinct_persons_with_extra_rows_are_safe() -> None:
    frame = pd.DataFrame({"school": ["Pine", "Pine", "Pine", "Pine", "Oak", "Oak", "Oak"]})
    persons = pd.Series(["p1", "p1", "p2", "p3", "p4", "p5", "p6"])
    result = k_anonymise(frame, types={"school": "string"}, k=3, policy="block",
                         persons=persons)
    assert not result.blocked
    assert (result.rows_below_k_before, result.persons_below_k_before) == (0, 0)


def test_suppress_counts_persons_and_blanks_every_row_of_the_small_class() -> None:
    frame = pd.DataFrame({"school": ["Pine", "Pine", "Pine", "Oak", "Oak", "Oak"]})
    persons = pd.Series(["p1", "p1", "p1", "p2", "p3", "p4"])
    result = k_anonymise(frame, types={"school": "string"}, k=3, policy="suppress",
                         persons=persons)
    assert result.values("school").tolist() == [None, None, None, "Oak", "Oak", "Oak"]
    assert result.variables["school"].cells_suppressed == 3  # a row-level QI: cells
    assert (result.persons_below_k_after, result.rows_below_k_after) == (0, 0)


def test_generalise_counts_persons_before_it_stops() -> None:
    # Ages 30–34 are held by four persons but ten rows; k=3 by rows would call every
    # single age safe for p1, counted in persons nothing is.
    frame = pd.DataFrame({"age": [30, 30, 30, 31, 32, 33, 34, 50, 51, 52]})
    persons = pd.Series(["p1", "p1", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"])
    result = k_anonymise(frame, types={"age": "integer"}, k=3, persons=persons)
    assert result.persons_below_k_before == 8
    assert result.values("age").tolist() == ["30–34"] * 7 + ["50–54"] * 3
    assert result.variables["age"].rule == "age→5-year band"
    assert result.persons_below_k_after == 0


def test_person_level_column_is_suppressed_in_all_of_a_persons_rows() -> None:
    # county is the person's (repeated on each row); school changes by period. p1's
    # (Pine, Henrico) row is alone: its county is blanked in p1's other rows too, so p1
    # has one released county.
    frame = pd.DataFrame({
        "county": ["Henrico", "Henrico", "Fairfax", "Fairfax", "Fairfax", "Henrico",
                   "Henrico"],
        "school": ["Oak", "Pine", "Oak", "Oak", "Oak", "Oak", "Oak"],
    })
    persons = pd.Series(["p1", "p1", "p2", "p3", "p4", "p5", "p6"])
    result = k_anonymise(frame, types={"county": "string", "school": "string"}, k=2,
                         policy="suppress", persons=persons, person_columns=["county"])
    county = result.values("county").tolist()
    assert county[0] is None and county[1] is None
    assert county[2:] == ["Fairfax", "Fairfax", "Fairfax", "Henrico", "Henrico"]
    assert result.variables["county"].cells_suppressed == 1  # one person's value
    assert result.persons_below_k_after == 0


def test_persons_must_match_the_frame() -> None:
    frame = _frame(sex=["F", "M"])
    with pytest.raises(ValueError, match="one person per row"):
        k_anonymise(frame, types={}, k=2, persons=pd.Series(["p1"]))


@pytest.mark.parametrize("name", ["age", "age_at_entry", "K12.age", "HE.age_at_entry"])
def test_age_ladder_found_for_extract_qi_names(name: str) -> None:
    # An extract names a QI "AGENCY.variable": the age rule must still see the word "age".
    steps = ladder_for(name, "integer", pd.Series([17, 23, 31, 45]))
    assert [s.rule for s in steps] == ["age→5-year band", "age→10-year band",
                                       "age→20-year band"]


def test_age_ladder_not_taken_for_words_containing_age() -> None:
    steps = ladder_for("K12.page_count", "integer", pd.Series([1, 200]))
    assert not any(s.rule.startswith("age") for s in steps)
