"""Longitudinal (person × period) extracts: payloads with several rows per person and a
``period`` column, disclosure control that counts persons, and the tables' grain."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from hub.errors import ExtractBuildError
from hub.extracts.assembly import apply_disclosure
from hub.extracts.bundle import write_bundle
from hub.extracts.dictionary import build_dictionary
from hub.extracts.periods import grain, period_kind, sort_rows
from tests.hub.extracts.test_extract_assembly import (
    _build,
    _download,
    _members,
    _table,
    _tamper,
)

Federation = Any  # tests/hub/extracts/conftest.py

TYPES = {"SCH": {"school": "string", "grade_level": "integer"},
         "COL": {"county": "string", "credits": "integer"}}


def _long_sch(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """(person, period, school) rows, ordered as the assembler orders them."""
    return sort_rows(pd.DataFrame(rows, columns=["person_id", "period", "school"]))


# --- periods and grain -------------------------------------------------------------------


def test_rows_sorted_by_person_then_chronological_period() -> None:
    frame = pd.DataFrame({"person_id": ["b", "a", "a", "a", "b"],
                          "period": ["2021FA", "2022FA", "2022SP", "2021FA", "2021SP"],
                          "school": ["x", "y", "z", "w", "v"]})
    ordered = sort_rows(frame)
    assert ordered[["person_id", "period"]].values.tolist() == [
        ["a", "2021FA"], ["a", "2022SP"], ["a", "2022FA"], ["b", "2021SP"], ["b", "2021FA"]]
    # The order depends only on the values, never on the order the node sent.
    assert sort_rows(frame.iloc[::-1]).equals(ordered)


def test_grain_names_one_row_per_person_or_per_person_and_period_kind() -> None:
    assert grain(pd.DataFrame({"person_id": ["a", "b"], "x": [1, 2]})) == "one row per person"
    assert grain(_long_sch([("a", "2021-22", "Oak"), ("a", "2022-23", "Oak")])) == \
        "one row per person and period (school_year)"
    mixed = pd.DataFrame({"person_id": ["a", "a"], "period": ["2021Q3", "2021-03-07"]})
    assert grain(mixed) == "one row per person and period (quarter, date)"
    assert grain(pd.DataFrame({"person_id": ["a", "a"], "x": [1, 2]})) == \
        "several rows per person (no period)"
    assert [period_kind(v) for v in ("2021", "2021-22", "2021T1", "2021Q3", "x")] == [
        "year", "school_year", "term", "quarter", None]


def test_dictionary_states_each_tables_grain_and_lists_period() -> None:
    catalog = {"SCH": {"school": {"type": "string", "quasi_identifier": True}},
               "COL": {"county": {"type": "string", "quasi_identifier": True}}}
    entries = build_dictionary(
        agencies=["COL", "SCH"], released={"SCH": ["school"], "COL": ["county"]},
        catalog=catalog, years={"SCH": (2019, 2020), "COL": (2021, 2021)}, disclosure=None,
        grains={"SCH": "one row per person and period (school_year)",
                "COL": "one row per person"})
    by_table: dict[str, set[str]] = {}
    for entry in entries:
        by_table.setdefault(entry["table"], set()).add(entry["grain"])
    assert by_table == {"persons": {"one row per person"},
                        "links": {"one row per link between two agencies' records of a "
                                  "person"},
                        "agency_SCH": {"one row per person and period (school_year)"},
                        "agency_COL": {"one row per person"}}
    sch = [e["variable"] for e in entries if e["table"] == "agency_SCH"]
    assert sch == ["person_id", "period", "school"]
    period = next(e for e in entries if e["variable"] == "period")
    assert (period["source_agency"], period["type"], period["years"]) == ("SCH", "string",
                                                                          [2019, 2020])
    assert [e["variable"] for e in entries if e["table"] == "agency_COL"] == [
        "person_id", "county"]
    # Without grains (callers of old) every agency table is one row per person.
    old = build_dictionary(agencies=["SCH"], released={"SCH": ["school"]},
                           catalog=catalog, years={"SCH": (2019, 2020)}, disclosure=None)
    assert {e["grain"] for e in old if e["table"] == "agency_SCH"} == {"one row per person"}


def test_bundle_readme_and_dictionary_csv_give_the_grain() -> None:
    sink = io.BytesIO()
    tables = {"agency_SCH": _long_sch([("a", "2021-22", "Oak"), ("a", "2022-23", "Elm")])}
    dictionary = build_dictionary(
        agencies=["SCH"], released={"SCH": ["school"]},
        catalog={"SCH": {"school": {"type": "string"}}}, years={"SCH": (2021, 2022)},
        disclosure=None, grains={"SCH": grain(tables["agency_SCH"])})
    write_bundle(sink, manifest={"extract_id": "x", "project_id": "p", "run_id": "r",
                                 "created_at": "", "expires_at": "", "persons": 1},
                 tables=tables, formats=["csv"], dictionary=dictionary, quality_report={},
                 disclosure_report={}, terms={})
    with zipfile.ZipFile(io.BytesIO(sink.getvalue())) as archive:
        readme = archive.read("README.txt").decode()
        header = archive.read("data_dictionary.csv").decode().splitlines()[0]
    assert ("tables/agency_SCH: 2 rows, one row per person and period (school_year)"
            in readme)
    assert header.endswith(",grain")


# --- disclosure control over person × period tables --------------------------------------


def test_three_rows_of_one_person_with_k3_are_blocked() -> None:
    sch = _long_sch([("p1", "2019", "Pine"), ("p1", "2020", "Pine"), ("p1", "2021", "Pine"),
                     ("p2", "2019", "Oak"), ("p3", "2019", "Oak"), ("p4", "2020", "Oak")])
    released, result = apply_disclosure({"SCH": sch}, quasi_identifiers={"SCH": ["school"]},
                                        types=TYPES, k=3, policy="block")
    assert result is not None and result.blocked
    assert (result.rows_below_k_before, result.persons_below_k_before) == (3, 1)
    assert released["SCH"].equals(sch)


def test_three_rows_of_one_person_are_suppressed_and_three_persons_kept() -> None:
    sch = _long_sch([("p1", "2019", "Pine"), ("p1", "2020", "Pine"), ("p1", "2021", "Pine"),
                     ("p2", "2019", "Oak"), ("p3", "2019", "Oak"), ("p4", "2020", "Oak"),
                     ("p4", "2021", "Oak")])
    released, result = apply_disclosure({"SCH": sch}, quasi_identifiers={"SCH": ["school"]},
                                        types=TYPES, k=3, policy="suppress")
    assert result is not None and not result.blocked
    out = released["SCH"]
    assert out[["person_id", "period"]].equals(sch[["person_id", "period"]])
    assert out.loc[out.person_id == "p1", "school"].isna().all()
    assert out.loc[out.person_id != "p1", "school"].tolist() == ["Oak"] * 4
    assert (result.persons, result.persons_below_k_after) == (4, 0)


def test_long_table_with_person_level_qis_of_another_agency() -> None:
    # SCH is person × period (school by year), COL one row per person (county). Rows are
    # judged with the person's county joined on; p1's (Pine, Henrico) is alone. The county
    # released for p1 in COL is one value, the same as disclosure control decided for all
    # of p1's rows.
    sch = _long_sch([("p1", "2019", "Oak"), ("p1", "2020", "Pine"),
                     ("p2", "2019", "Oak"), ("p3", "2019", "Oak"),
                     ("p4", "2019", "Oak"), ("p5", "2020", "Oak")])
    col = pd.DataFrame({"person_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
                        "county": ["Henrico", "Henrico", "Fairfax", "Fairfax", "Henrico",
                                   "Fairfax"],
                        "credits": [12, 13, 14, 15, 16, 17]})
    released, result = apply_disclosure(
        {"SCH": sch, "COL": col}, quasi_identifiers={"SCH": ["school"], "COL": ["county"]},
        types=TYPES, k=2, policy="suppress")
    assert result is not None and not result.blocked
    # Rows: six SCH rows plus one for p6 (only in COL, its school missing: a class of
    # its own, as in a one-row extract).
    assert (result.rows, result.persons) == (7, 6)
    county = dict(zip(released["COL"].person_id, released["COL"].county, strict=True))
    assert pd.isna(county["p1"]) and pd.isna(county["p6"])
    assert [county[p] for p in ("p2", "p3", "p4", "p5")] == [
        "Henrico", "Fairfax", "Fairfax", "Henrico"]
    assert released["COL"]["credits"].tolist() == col["credits"].tolist()
    assert result.variables["COL.county"].cells_suppressed == 2  # persons p1 and p6
    # What a researcher sees joining the tables: every class of (school, county) over
    # informative rows holds at least k distinct persons.
    joined = released["SCH"].merge(released["COL"][["person_id", "county"]],
                                   on="person_id", how="outer")
    keys = joined[["school", "county"]].astype("string").fillna("<missing>")
    informative = ~(keys == "<missing>").all(axis=1)
    sizes = joined[informative].groupby(
        [keys[informative]["school"], keys[informative]["county"]])["person_id"].nunique()
    assert (sizes >= 2).all()


def test_generalisation_of_a_long_table_is_one_level_for_the_column() -> None:
    sch = sort_rows(pd.DataFrame({
        "person_id": ["p1", "p1", "p2", "p3", "p4", "p5", "p6"],
        "period": ["2019", "2020", "2019", "2019", "2019", "2019", "2019"],
        "grade_level": [9, 10, 9, 11, 10, 12, 12]}))
    released, result = apply_disclosure({"SCH": sch},
                                        quasi_identifiers={"SCH": ["grade_level"]},
                                        types=TYPES, k=2, policy="generalise")
    assert result is not None
    assert result.variables["SCH.grade_level"].level >= 1
    out = released["SCH"]["grade_level"]
    assert str(out.dtype) == "string"
    assert result.persons_below_k_after == 0


def test_one_row_per_person_tables_take_the_unchanged_path() -> None:
    sch = pd.DataFrame({"person_id": ["p1", "p2", "p3"], "school": ["Oak", "Oak", "Pine"]})
    released, result = apply_disclosure({"SCH": sch}, quasi_identifiers={"SCH": ["school"]},
                                        types=TYPES, k=2, policy="suppress")
    assert result is not None
    assert released["SCH"]["school"].tolist()[:2] == ["Oak", "Oak"]
    assert pd.isna(released["SCH"]["school"].tolist()[2])
    assert (result.rows, result.persons) == (3, 3)


# --- end to end: a node sends a longitudinal payload --------------------------------------


def _by_school_year(table: pa.Table) -> pa.Table:
    """Every SCH row twice, in school years 2019-20 and 2020-21 (grade one up), with a
    ``period`` column — as a node whose agency maps a period column sends it."""
    first = table.append_column("period", pa.array(["2019-20"] * table.num_rows))
    grades = pa.array([g + 1 for g in table.column("grade_level").to_pylist()],
                      type=table.column("grade_level").type)
    second = table.set_column(table.column_names.index("grade_level"), "grade_level",
                              grades).append_column("period",
                                                    pa.array(["2020-21"] * table.num_rows))
    # Later rows first: the hub must not keep the node's order.
    return pa.concat_tables([second, first])


def test_longitudinal_payload_assembles_into_a_person_by_period_table(
        federation: Federation) -> None:
    project, _, _ = federation.ready_project(extract={"formats": ["csv"]})
    extract = _build(federation, project, rewrite=_tamper(_by_school_year, federation.hub))
    assert extract.status == "available"
    assert extract.tables["agency_SCH"] == 20 and extract.persons == 10
    members = _members(_download(federation, extract.id))
    sch = _table(members, "agency_SCH")
    assert sch.columns.tolist() == ["person_id", "period", "grade_level", "gpa", "school",
                                    "ell"]
    ordered = sch.sort_values(["person_id", "period"], ignore_index=True)
    assert sch[["person_id", "period"]].equals(ordered[["person_id", "period"]])
    assert (sch.groupby("person_id")["period"].apply(list) == pd.Series(
        [["2019-20", "2020-21"]] * 10, index=sorted(set(sch.person_id)))).all()
    assert set(sch.person_id) == set(_table(members, "persons").person_id)
    dictionary = json.loads(members["data_dictionary.json"])
    sch_entries = [e for e in dictionary if e["table"] == "agency_SCH"]
    assert [e["variable"] for e in sch_entries][:2] == ["person_id", "period"]
    assert {e["grain"] for e in sch_entries} == {"one row per person and period (school_year)"}
    assert {e["grain"] for e in dictionary if e["table"] == "agency_COL"} == {
        "one row per person"}
    assert "tables/agency_SCH: 20 rows, one row per person and period (school_year)" in \
        members["README.txt"].decode()
    report = json.loads(members["disclosure_report.json"])["result"]
    assert report["persons"] == 10 and report["rows"] == 20
    assert report["persons_below_k_after"] == 0
    # Every class a researcher can form joining the tables holds ≥ k distinct persons.
    joined = sch[["person_id", "school", "ell"]].merge(
        _table(members, "agency_COL")[["person_id", "county"]], on="person_id", how="outer")
    keys = joined[["school", "ell", "county"]].fillna("<missing>")
    informative = ~(keys == "<missing>").all(axis=1)
    sizes = joined[informative].groupby(
        [keys[informative][c] for c in keys.columns])["person_id"].nunique()
    assert (sizes >= 5).all()


def _int_period(table: pa.Table) -> pa.Table:
    return table.append_column("period", pa.array([2019] * table.num_rows))


def _period_and_more(table: pa.Table) -> pa.Table:
    return _by_school_year(table).append_column(
        "term", pa.array(["FA"] * (2 * table.num_rows)))


@pytest.mark.parametrize(("change", "code"), [
    (_int_period, "bad_extract_payload"),
    (_period_and_more, "unexpected_variables"),
])
def test_longitudinal_payload_with_a_bad_period_or_extra_column_is_refused(
        federation: Federation, change: Any, code: str) -> None:
    project, _, _ = federation.ready_project()
    with pytest.raises(ExtractBuildError) as raised:
        _build(federation, project, rewrite=_tamper(change, federation.hub))
    assert (raised.value.code, raised.value.agency) == (code, "SCH")
