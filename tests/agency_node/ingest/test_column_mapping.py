"""node init: columns mapped by name, attribute types and years inferred, commented TOML
(content detection: test_detect.py, test_plan.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agency_node.config import read_config
from agency_node.errors import ConfigError, SourceError
from agency_node.ingest.columns import infer_type, parse_year
from agency_node.ingest.plan import Choices, build_plan


def test_header_plan_recognises_identity_id_year_and_attributes() -> None:
    header = ["Student ID", "record_id", "First Name", "SURNAME", "Birth_Date", "Gender", "Zip",
              "zip_code", "Enroll Year", "Race", "truth_id"]
    plan = build_plan(header, None, Choices())
    assert plan.record_id == "record_id"
    assert plan.identity == {"first_name": "First Name", "last_name": "SURNAME",
                             "dob": "Birth_Date", "sex": "Gender", "postal_code": "Zip"}
    assert plan.year_column == "Enroll Year"
    # the second ZIP column holds identity values too, and a second id identifies a person:
    # neither is ever an attribute
    assert set(plan.ignore) == {"truth_id", "zip_code", "Student ID"}
    assert plan.attributes == ["Enroll Year", "Race"]


def test_header_plan_without_record_id_or_identity_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match=r"no record id column.*--record-id"):
        build_plan(["first_name", "last_name"], None, Choices())
    with pytest.raises(SourceError, match="no column looks like an identity field"):
        build_plan(["record_id", "gpa"], None, Choices())


@pytest.mark.parametrize(
    ("samples", "expected"),
    [(["1", "12", ""], "integer"), (["1.5", "2"], "number"), (["yes", "N"], "boolean"),
     (["2020-01-02"], "date"), (["9", "ninth"], "string"), ([], "string")],
)
def test_infer_type(samples: list[str], expected: str) -> None:
    assert infer_type(samples) == expected


def test_parse_year_reads_school_years() -> None:
    assert [parse_year(t) for t in ("2019", "2019-20", "SY 2019-2020", "19", "")] == [
        2019, 2019, 2019, None, None]


def test_init_writes_commented_config_with_defaults(node_dir: Path) -> None:
    text = (node_dir / "node.toml").read_text()
    assert "# classification: public / internal / confidential / restricted" in text
    config = read_config(node_dir)
    assert config.node.agency == "K12"
    assert config.mapping.record_id == "record_id"
    assert config.mapping.year_column == "school_year"
    assert config.mapping.ignore == ["truth_id"]
    assert set(config.mapping.identity) == {"first_name", "middle_name", "last_name", "dob",
                                            "sex", "ssn", "postal_code"}
    gpa = config.variables["gpa"]
    assert (gpa.type, gpa.years, gpa.classification, gpa.quasi_identifier) == (
        "number", [2019, 2020, 2021], "confidential", False)
    assert config.variables["ell"].quasi_identifier is True


def test_steward_edits_are_validated(node_dir: Path) -> None:
    path = node_dir / "node.toml"
    path.write_text(path.read_text().replace('classification = "confidential"',
                                             'classification = "secret"', 1))
    with pytest.raises(ConfigError, match=r"variables\..*classification"):
        read_config(node_dir)


def test_init_refuses_an_existing_node(node_dir: Path, source_csv: Path,
                                       make_node: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match="already exists"):
        make_node(source_csv)


def test_init_on_empty_file_is_a_clear_error(tmp_path: Path,
                                             make_node: Callable[..., Path]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="is empty"):
        make_node(empty)
    assert not (tmp_path / "node").exists()


def _add_variable(node_dir: Path, column: str) -> None:
    path = node_dir / "node.toml"
    path.write_text(path.read_text() + f'\n[variables.extra]\ncolumn = "{column}"\n')


def test_variable_on_an_ignored_column_refused(node_dir: Path) -> None:
    _add_variable(node_dir, "truth_id")
    with pytest.raises(ConfigError, match="reads ignored column 'truth_id'"):
        read_config(node_dir)


def test_variable_on_a_column_named_like_identity_needs_an_override(node_dir: Path) -> None:
    _add_variable(node_dir, "GUARDIAN_FIRST_NM")
    with pytest.raises(ConfigError, match="named like a name; map it, or offer it"):
        read_config(node_dir)
    path = node_dir / "node.toml"
    path.write_text(path.read_text().replace(
        "[mapping.identity]", '[mapping.overrides]\nGUARDIAN_FIRST_NM = "test reason"\n\n'
        "[mapping.identity]"))
    assert read_config(node_dir).mapping.overrides == {"GUARDIAN_FIRST_NM": "test reason"}
