"""l-diversity and t-closeness of sensitive variables: failing classes suppressed, the rest
kept, and what was done reported."""

from __future__ import annotations

import pandas as pd

from hub.disclosure.diversity import failing_classes, protect_sensitive, protect_tables


def _school_table() -> pd.DataFrame:
    return pd.DataFrame({
        "person_id": [f"p{i}" for i in range(9)],
        "school": ["Oak"] * 4 + ["Elm"] * 5,
        "sped": ["Y", "Y", "Y", "Y", "Y", "N", "N", "N", None],
    })


def test_class_where_everyone_shares_the_sensitive_value_is_suppressed() -> None:
    table = _school_table()
    released, outcome = protect_sensitive(table, quasi_identifiers=["school"],
                                          rules={"sped": (2, 0.0)})
    assert released.loc[table["school"] == "Oak", "sped"].isna().all()
    assert released.loc[table["school"] == "Elm", "sped"].tolist() == ["Y", "N", "N", "N",
                                                                       None]
    assert outcome["sped"].report() == {"l_diversity": 2, "t_closeness": 0.0, "classes": 2,
                                        "failed_classes": 1, "cells_suppressed": 4}
    assert table["sped"].tolist()[:4] == ["Y"] * 4  # the input is not changed


def test_t_closeness_catches_a_skewed_but_diverse_class() -> None:
    table = pd.DataFrame({"school": ["Oak"] * 10 + ["Elm"] * 10,
                          "frl": ["Y"] * 9 + ["N"] + ["Y"] + ["N"] * 9})
    # Both classes show two values (2-diverse) but each is far from the 50/50 overall.
    classes, failed = failing_classes(table["school"], table["frl"], l_diversity=2,
                                      t_closeness=0.3)
    assert (classes, failed) == (2, {"Oak", "Elm"})
    _, failed = failing_classes(table["school"], table["frl"], l_diversity=2,
                                t_closeness=0.45)
    assert failed == set()


def test_missing_values_are_not_a_value_and_an_empty_class_passes() -> None:
    table = pd.DataFrame({"school": ["Oak", "Oak", "Elm"], "sped": ["Y", None, None]})
    _, failed = failing_classes(table["school"], table["sped"], l_diversity=2,
                                t_closeness=0.0)
    assert failed == {"Oak"}


def test_without_quasi_identifiers_the_table_is_one_class() -> None:
    table = pd.DataFrame({"sped": ["Y", "Y", "Y"]})
    released, outcome = protect_sensitive(table, quasi_identifiers=[],
                                          rules={"sped": (2, 0.0)})
    assert released["sped"].isna().all() and outcome["sped"].classes == 1


def test_classes_join_other_agencies_quasi_identifiers_on_the_person() -> None:
    sch = _school_table().drop(columns="school")
    col = pd.DataFrame({"person_id": [f"p{i}" for i in range(9)],
                        "county": ["A"] * 4 + ["B"] * 5})
    released, outcome = protect_tables({"SCH": sch, "COL": col},
                                       quasi_identifiers={"SCH": [], "COL": ["county"]},
                                       sensitive={"SCH.sped": (2, 0.0)})
    # County A's four people all have sped = Y: a researcher joining the tables learns it.
    assert released["SCH"]["sped"].iloc[:4].isna().all()
    assert released["SCH"].columns.tolist() == ["person_id", "sped"]
    assert released["COL"] is col
    assert outcome["SCH.sped"].failed_classes == 1
