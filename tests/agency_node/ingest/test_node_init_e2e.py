"""Issue 14's export through ``fedlink node init`` and ``fedlink node ingest`` as real
processes: a correct mapping from the file alone, no identifying column offered as a
variable or loaded as an attribute, the steward override recorded (node.toml, mapping.toml,
audit log), and the mapping file round-tripping into an identical node."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import tomlkit

from agency_node.config import read_config
from agency_node.ingest.mapping_file import read_mapping_file

from .conftest import EXPORT_HEADER

IDENTIFYING = {"CLIENT_ID", "FIRST_NM", "LAST_NM", "BIRTH_DT", "SSN", "GENDER_CD",
               "ADDR_LINE_1", "CITY_NM", "ZIP_CD", "alt_ssn", "student_email", "guardian_name",
               "phone", "CASE_WORKER"}
OVERRIDE = "CASE_WORKER=staff names (the case worker), never a client's"


def fedlink(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fedlink.cli", *argv], capture_output=True,
                          text=True, timeout=180, check=False)


def init(node_dir: Path, source: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return fedlink("node", "init", "--agency", "DSX", "--name", "Social Services",
                   "--dir", str(node_dir), "--source", str(source), *extra)


def test_issue_export_init_and_ingest_offer_no_identifying_column(
        tmp_path: Path, issue_export: Callable[..., Path]) -> None:
    source = issue_export(rows=150)
    node_dir = tmp_path / "dsx"
    done = init(node_dir, source)
    assert done.returncode == 0, done.stderr
    # the decisions, and why, are printed for every column
    for column in EXPORT_HEADER:
        assert column in done.stdout
    assert "IGNORED" in done.stdout and "warning:" not in done.stdout
    config = read_config(node_dir)
    assert config.mapping.record_id == "CLIENT_ID"
    assert config.mapping.year_column == "FISCAL_YR"
    assert config.source.date_order == "MDY"
    assert set(config.mapping.identity.values()) == IDENTIFYING - {
        "CLIENT_ID", "alt_ssn", "student_email", "guardian_name", "phone", "CASE_WORKER"}
    offered = {v.column for v in config.variables.values()}
    assert offered == {"FISCAL_YR", "BENEFIT_AMT", "PROGRAM_CD", "SCHOOL_CD"}
    assert config.variables["fiscal_yr"].years == list(range(2014, 2022))
    assert config.variables["benefit_amt"].type == "number"  # "N/A" is missing, not text

    loaded = fedlink("node", "ingest", "--dir", str(node_dir))
    assert loaded.returncode == 0, loaded.stderr
    assert "150 loaded, 0 quarantined" in loaded.stdout
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        rows = db.execute("SELECT attributes FROM records").fetchall()
    assert len(rows) == 150
    keys = set().union(*(json.loads(r[0]) for r in rows))
    assert keys == {"fiscal_yr", "benefit_amt", "program_cd", "school_cd"}
    values = {str(v) for r in rows for v in json.loads(r[0]).values()}
    assert not values & {"Valerie", "HOOPER", "11/24/1973", "223-45-6780", "17 BROWN LN"}


def test_steward_override_is_recorded_and_the_mapping_file_round_trips(
        tmp_path: Path, issue_export: Callable[..., Path]) -> None:
    source = issue_export(rows=60)
    first = tmp_path / "first"
    done = init(first, source, "--offer", OVERRIDE)
    assert done.returncode == 0, done.stderr
    assert "steward override recorded" in done.stdout
    config = read_config(first)
    reason = "staff names (the case worker), never a client's"
    assert config.mapping.overrides == {"CASE_WORKER": reason}
    assert {v.column for v in config.variables.values()} >= {"CASE_WORKER"}
    assert config.variables["case_worker"].quasi_identifier is True
    with sqlite3.connect(first / "node.sqlite3") as db:
        events = db.execute("SELECT actor, typ, reason, details FROM audit_events").fetchall()
    [(actor, _typ, why, details)] = [e for e in events if e[1] == "column_override"]
    assert (actor, why) == ("steward", "identifying_column_offered")
    assert json.loads(details)["column"] == "CASE_WORKER"
    assert json.loads(details)["reason"] == reason
    assert "full names" in json.loads(details)["flagged"]

    mapping = first / "mapping.toml"
    assert mapping.stat().st_mode & 0o777 == 0o600
    choices = read_mapping_file(mapping)
    assert choices.override == {"CASE_WORKER": reason}
    assert "phone" in choices.ignore and choices.record_id == "CLIENT_ID"
    # the reviewed file alone reproduces the node (override included)
    second = tmp_path / "second"
    again = init(second, source, "--mapping", str(mapping))
    assert again.returncode == 0, again.stderr
    assert read_config(second).model_dump() == config.model_dump() | {
        "hub": read_config(second).hub.model_dump()}
    assert read_mapping_file(second / "mapping.toml") == choices


def test_options_map_columns_and_warn_about_ssn_only_linkage(
        tmp_path: Path, issue_export: Callable[..., Path]) -> None:
    source = issue_export(rows=40)
    mapping = tmp_path / "mapping.toml"
    # a steward who keeps only the SSN for linkage: names and birth date ignored
    mapping.write_text(tomlkit.dumps({"ignore": {"FIRST_NM": "not used", "LAST_NM": "not used",
                                                 "BIRTH_DT": "not used"}}))
    done = init(tmp_path / "n", source, "--mapping", str(mapping), "--map", "SSN=ssn",
                "--record-id", "CLIENT_ID", "--year-column", "", "--date-order", "dmy")
    assert done.returncode == 0, done.stderr
    assert "warning: no column is mapped to first_name, last_name, dob" in done.stdout
    config = read_config(tmp_path / "n")
    assert config.mapping.year_column == "" and config.source.date_order == "DMY"
    assert {"FIRST_NM", "LAST_NM", "BIRTH_DT"} <= set(config.mapping.ignore)
    assert not {v.column for v in config.variables.values()} & IDENTIFYING


@pytest.mark.parametrize(
    ("extra", "message"),
    [(("--map", "FIRST_NM"), "--map takes local=canonical"),
     (("--map", "FIRST_NM=given"), "'given' is not one of"),
     (("--offer", "phone"), "--offer takes COLUMN=REASON"),
     (("--offer", "BENEFIT_AMT=because"), "not an ignored identifying column"),
     (("--record-id", "NOPE"), "no column 'NOPE'"),
     (("--date-order", "YDM"), "--date-order must be MDY or DMY")],
)
def test_bad_mapping_options_refused_with_one_line(
        tmp_path: Path, issue_export: Callable[..., Path], extra: tuple[str, ...],
        message: str) -> None:
    done = init(tmp_path / "n", issue_export(rows=30), *extra)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not (tmp_path / "n" / "node.toml").exists()


def test_bad_mapping_file_refused(tmp_path: Path, issue_export: Callable[..., Path]) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('record_id = "CLIENT_ID"\n[identity]\nfirst_name = 3\n')
    done = init(tmp_path / "n", issue_export(rows=30), "--mapping", str(mapping))
    assert done.returncode != 0 and "mapping file" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_remap_in_place_keeps_keys_hub_and_the_stewards_descriptions(
        tmp_path: Path, issue_export: Callable[..., Path]) -> None:
    source = issue_export(rows=40)
    node_dir = tmp_path / "dsx"
    assert init(node_dir, source).returncode == 0
    key = (node_dir / "signing.key").read_bytes()
    config = node_dir / "node.toml"
    doc = tomlkit.parse(config.read_text())
    doc["variables"]["benefit_amt"]["description"] = "Monthly benefit in USD"
    doc["variables"]["benefit_amt"]["classification"] = "internal"
    doc["hub"]["url"] = "https://hub.example.gov"
    config.write_text(tomlkit.dumps(doc))
    # without --remap an existing node is refused
    again = init(node_dir, source)
    assert again.returncode != 0 and "--remap" in again.stderr
    # the steward offers CASE_WORKER through the reviewed mapping file
    mapping = node_dir / "mapping.toml"
    doc = tomlkit.parse(mapping.read_text())
    del doc["ignore"]["CASE_WORKER"]
    doc["override"]["CASE_WORKER"] = "staff names"
    mapping.write_text(tomlkit.dumps(doc))
    done = init(node_dir, source, "--mapping", str(mapping), "--remap")
    assert done.returncode == 0, done.stderr
    assert "re-mapped" in done.stdout and "fedlink node ingest" in done.stdout
    remapped = read_config(node_dir)
    assert (node_dir / "signing.key").read_bytes() == key
    assert remapped.hub.url == "https://hub.example.gov"
    benefit = remapped.variables["benefit_amt"]
    assert (benefit.description, benefit.classification) == ("Monthly benefit in USD",
                                                             "internal")
    assert remapped.mapping.overrides == {"CASE_WORKER": "staff names"}
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        kinds = [t for (t,) in db.execute("SELECT typ FROM audit_events ORDER BY seq")]
    assert kinds == ["remap", "column_override"]


def test_remap_of_another_agency_or_no_node_refused(
        tmp_path: Path, issue_export: Callable[..., Path]) -> None:
    source = issue_export(rows=30)
    missing = init(tmp_path / "none", source, "--remap")
    assert missing.returncode != 0 and "no node in" in missing.stderr
    assert init(tmp_path / "dsx", source).returncode == 0
    other = fedlink("node", "init", "--agency", "K12", "--name", "x", "--dir",
                    str(tmp_path / "dsx"), "--source", str(source), "--remap")
    assert other.returncode != 0 and "agency DSX, not K12" in other.stderr
