"""Agency persons at init: the person id and period roles (detected from values, or set by
--map and the mapping file), and the reused-id rule's two halves."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from agency_node.config import read_config
from agency_node.errors import ConfigError
from agency_node.ingest.mapping_file import MAPPING_FILE, read_mapping_file
from agency_node.ingest.persons import ReusedIds, Version, clearly_different, version_of
from fedlink.commands.node_init import build_choices
from protocol.normalize import NormalizationOptions

HEADER = ["record_id", "student_id", "first_name", "last_name", "dob", "school_year", "score"]
GIVEN = ("Maria", "James", "Ana", "Kevin", "Linda", "Jose", "Karen", "Sarah", "David", "Emily")
SURNAMES = ("GARCIA", "SMITH", "NGUYEN", "BROWN", "LOPEZ", "MILLER", "DAVIS", "WILSON")


def longitudinal_rows(persons: int, years: int = 2) -> list[list[str]]:
    """``persons`` students over ``years`` school years, sorted by year as exports are: the
    first rows show every student once."""
    rows = []
    for y in range(years):
        for p in range(persons):
            rows.append([f"R{y * persons + p:07d}", f"S{p:06d}", GIVEN[p % len(GIVEN)],
                         SURNAMES[p // len(GIVEN) % len(SURNAMES)],
                         f"{1990 + p % 20}-{p % 12 + 1:02d}-{p % 27 + 1:02d}",
                         f"{2019 + y}-{(20 + y) % 100:02d}", str(300 + p % 200)])
    return rows


def write_rows(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_init_detects_person_id_from_repeats_beyond_the_sample(
    tmp_path: Path, make_node: Callable[..., Path]
) -> None:
    # 2,500 students: the first 2,000 values (the sample) are all distinct; only the whole
    # column shows each id twice.
    source = write_rows(tmp_path / "k12.csv", longitudinal_rows(2500))
    config = read_config(make_node(source))
    assert config.mapping.record_id == "record_id"
    assert config.mapping.person_id == "student_id"
    assert config.mapping.period_column == "school_year"
    assert config.mapping.year_column == ""
    assert "student_id" not in {v.column for v in config.variables.values()}
    period_var = next(v for v in config.variables.values() if v.column == "school_year")
    assert period_var.years == [2019, 2020] and not period_var.quasi_identifier
    # The reviewable mapping file names both, so feeding it back keeps them.
    choices = read_mapping_file(tmp_path / "node" / MAPPING_FILE)
    assert (choices.person_id, choices.period_column) == ("student_id", "school_year")


def test_init_without_repeats_keeps_one_person_per_row_and_the_year_column(
    tmp_path: Path, make_node: Callable[..., Path]
) -> None:
    source = write_rows(tmp_path / "k12.csv", longitudinal_rows(60, years=1))
    config = read_config(make_node(source))
    assert config.mapping.person_id == "" and config.mapping.period_column == ""
    assert config.mapping.year_column == "school_year"


def test_init_map_sets_person_id_and_period(
    tmp_path: Path, make_node: Callable[..., Path]
) -> None:
    source = write_rows(tmp_path / "k12.csv", longitudinal_rows(60, years=1))
    choices = build_choices(mapping=None, maps=["student_id=person_id", "school_year=period"],
                            record_id=None, year_column=None, date_order=None, offers=[])
    from agency_node.config import SourceSection
    from agency_node.setup import init_node

    init_node(tmp_path / "n", agency="K12", name="K-12",
              source=SourceSection(kind="csv", path=str(source)), choices=choices)
    config = read_config(tmp_path / "n")
    assert (config.mapping.person_id, config.mapping.period_column) == ("student_id",
                                                                        "school_year")
    assert config.mapping.year_column == ""


def test_init_person_id_that_is_the_record_id_is_refused(tmp_path: Path) -> None:
    source = write_rows(tmp_path / "k12.csv", longitudinal_rows(30, years=1))
    choices = build_choices(mapping=None, maps=["record_id=person_id"], record_id=None,
                            year_column=None, date_order=None, offers=[])
    from agency_node.config import SourceSection
    from agency_node.setup import init_node

    with pytest.raises(ConfigError, match="already the record id"):
        init_node(tmp_path / "n", agency="K12", name="K-12",
                  source=SourceSection(kind="csv", path=str(source)), choices=choices)


def _version(first: str, dob: str, middle: str = "") -> Version:
    version = version_of(first, dob, NormalizationOptions(), middle)
    assert version is not None
    return version


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Robert", "1990-04-12"), ("Bob", "1990-12-04")),  # nickname, day/month swapped
        (("Maria", "1990-04-12"), ("Mraia", "1991-05-12")),  # typo; year and month differ
        (("Christopher", "1990-04-12"), ("Chris", "1985-01-30")),  # a prefix
        (("Jennifer", "1990-04-12"), ("Kevin", "1990-04-13")),  # dates one day apart
        (("Jennifer", "1990-04-12"), ("Kevin", "1991-04-12")),  # only the year differs
        (("Jennifer", "1990-04-12"), ("Jennifer", "1975-09-30")),  # same first name
        # Known by the middle name in one row (whatever the birth dates say).
        (("Cheryl", "1962-05-06", "J"), ("Jessie", "1965-06-05", "Cheryl")),
        (("Joaquin", "1973-10-07", "F"), ("Flavio", "1970-07-10", "J")),
        (("Jennifer", "1990-04-12"), ("Kevin", "1990-04-15")),  # one digit of the day
        (("Jennifer", "1990-04-12"), ("Kevin", "1990-12-04")),  # day and month swapped
    ],
)
def test_reused_rule_errors_and_half_matches_are_not_different_people(a, b):
    assert not clearly_different(_version(*a), _version(*b))
    assert not clearly_different(_version(*b), _version(*a))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Jennifer", "1990-04-12"), ("Kevin", "1975-09-30")),
        (("Maria", "2008-03-07", "Luisa"), ("Deshawn", "2008-11-25", "Ray")),  # one cohort
        (("Jennifer", "1990-04-12"), ("Kevin", "1990-04-25")),  # two digits apart
    ],
)
def test_reused_rule_different_name_and_birth_date_are_different_people(a, b):
    assert clearly_different(_version(*a), _version(*b))


def test_reused_ids_flag_an_id_once_any_pair_differs_and_forget_its_versions():
    found = ReusedIds()
    found.add("S1", _version("Maria", "2008-03-07"))
    found.add("S1", _version("Mariah", "2008-03-07"))  # a spelling: same person
    found.add("S2", _version("Ana", "2009-01-01"))
    assert found.reused == set()
    found.add("S1", _version("Deshawn", "2006-11-20"))
    assert found.reused == {"S1"} and "S1" not in found.versions
    found.add("S1", None)
    assert found.reused == {"S1"}
    assert dt.date(2009, 1, 1) == found.versions["S2"][0].dob
