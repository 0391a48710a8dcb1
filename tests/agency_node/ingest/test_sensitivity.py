"""``node init`` proposes ``restricted`` for sensitive variables by name *and* by content
(docs/classification.md), writes why into node.toml, and the steward decides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agency_node.config import read_config
from agency_node.ingest.sensitivity import propose
from tests.agency_node.conftest import HEADER, PEOPLE, write_csv


@pytest.mark.parametrize(("column", "category"), [
    ("sped_flag", "special education"), ("IEP_STATUS", "special education"),
    ("Section 504", "special education"), ("disability_type", "disability"),
    ("health_condition", "health"), ("medicaid_enrolled", "health"),
    ("frl_status", "benefits"), ("SNAP", "benefits"), ("tanf_recipient", "benefits"),
    ("free_lunch", "benefits"), ("suspension_days", "discipline"),
    ("discipline_incidents", "discipline"), ("citizenship_status",
                                              "immigration or language status"),
    ("english_learner", "immigration or language status"),
    ("ell", "immigration or language status"),
])
def test_sensitive_names_proposed_restricted(column: str, category: str) -> None:
    proposal = propose(column, ["Y", "N"])
    assert proposal is not None and category in proposal.categories
    assert proposal.reason.startswith(f"name suggests {category}")


@pytest.mark.parametrize("column", ["grade_level", "gpa", "school", "county", "test_score",
                                    "environmental_score", "quarterly_wage", "industry",
                                    "degree", "credits", "school_year", "cell_phone_type"])
def test_ordinary_names_not_proposed(column: str) -> None:
    assert propose(column, ["1", "2", "Oak"]) is None


@pytest.mark.parametrize(("values", "category", "shown"), [
    (["NONE", "IEP", "NONE"], "special education", "IEP"),
    (["SNAP", "NONE", "TANF"], "benefits", "SNAP, TANF"),
    (["free", "reduced", "paid"], "benefits", "FREE, REDUCED"),
    (["Autism", "None"], "disability", "AUTISM"),
    (["OSS", "ISS", "none"], "discipline", "ISS, OSS"),
])
def test_generic_column_proposed_by_its_values(values: list[str], category: str,
                                               shown: str) -> None:
    proposal = propose("program_cd", values)
    assert proposal is not None and proposal.categories == (category,)
    assert f"values {shown} suggest {category}" in proposal.reason


def test_one_everyday_code_alone_is_not_enough() -> None:
    # "FREE" or "504" alone appear in ordinary columns (admission, a room number).
    assert propose("admission", ["FREE", "PAID"]) is None
    assert propose("room", ["504", "101"]) is None


def test_init_writes_the_proposal_and_its_reason_into_node_toml(
        tmp_path: Path, make_node: Callable[..., Path]) -> None:
    header = [*HEADER, "sped_flag", "program"]
    programs = ["IEP", "NONE", "504", "NONE"]
    rows = [{**row, "sped_flag": "N", "program": program}
            for row, program in zip(PEOPLE, programs, strict=True)]
    node_dir = make_node(write_csv(tmp_path / "k12.csv", rows, header))
    config = read_config(node_dir)
    levels = {n: (v.classification, v.classification_reason)
              for n, v in config.variables.items()}
    assert levels["sped_flag"][0] == levels["program"][0] == "restricted"
    assert "name suggests special education" in levels["sped_flag"][1]
    assert "values 504, IEP suggest special education" in levels["program"][1]
    assert levels["gpa"] == ("confidential", "")
    text = (node_dir / "node.toml").read_text()
    # Only proposals carry a reason line; the others stay as they were.
    assert text.count("classification_reason") == 3  # sped_flag, program and ell
