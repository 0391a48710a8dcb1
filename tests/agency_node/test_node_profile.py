"""The steward's data-quality profile: completeness, validity, reasons, duplicates, values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from agency_node.ingest.loader import run_ingest
from agency_node.profile import build_profile, render_profile
from agency_node.runtime import NodeRuntime


def test_profile_counts_quality_problems(
    tmp_path: Path, make_node: Callable[..., Path], source_csv: Path
) -> None:
    lines = source_csv.read_text().splitlines()
    twin = lines[1].replace("K12-0001", "K12-0009")  # same person under another local id
    bad_ssn = lines[2].replace("078-05-1121", "000-12-3456")
    duplicate = lines[3]  # K12-0003 again
    source_csv.write_text("\n".join([lines[0], *lines[1:], twin, duplicate]) + "\n")
    source_csv.write_text(source_csv.read_text().replace(lines[2], bad_ssn))
    node_dir = make_node(source_csv)
    with NodeRuntime.open(node_dir) as runtime:
        run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
        profile = build_profile(runtime.settings.node, runtime.sessions)
    assert profile["records"] == 5
    ssn = profile["identity_fields"]["ssn"]
    # 5 records: 3 valid SSNs, one invalid (000 area), one blank
    assert ssn["present"] == 3
    assert ssn["missing"] == {"invalid_ssn": 1, "absent": 1}
    assert ssn["completeness_pct"] == 60.0 and ssn["validity_pct"] == 75.0
    assert profile["duplicate_record_ids"] == [{"row": 6, "detail": "same record_id as row 3"}]
    assert profile["likely_duplicate_persons"]["groups"] == 1
    assert sorted(profile["likely_duplicate_persons"]["examples"][0]) == ["K12-0001", "K12-0009"]
    grade = profile["attributes"]["grade_level"]
    assert (grade["min"], grade["max"], grade["null"]) == (8, 12, 0)
    assert profile["attributes"]["ell"]["top"][0] == ["False", 3]
    console = Console(record=True, width=160)
    render_profile(profile, console)
    text = console.export_text()
    assert "invalid_ssn: 1" in text and "likely duplicate persons" in text


def test_profile_percentages_never_exceed_100(
    tmp_path: Path, make_node: Callable[..., Path]
) -> None:
    # Suffixes split off last names ("Washington Jr") fill name_suffix without a raw
    # suffix value: validity counts only records that had one (it showed 141.7 %).
    from tests.agency_node.conftest import HEADER, PEOPLE, write_csv

    people = [{**p, "suffix": ""} for p in PEOPLE]
    people[0]["suffix"] = "III"
    people[1]["last_name"] = "O'Brien Sr"
    source = write_csv(tmp_path / "suffix.csv", people, header=[*HEADER, "suffix"])
    node_dir = make_node(source)
    with NodeRuntime.open(node_dir) as runtime:
        run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
        profile = build_profile(runtime.settings.node, runtime.sessions)
    suffix = profile["identity_fields"]["name_suffix"]
    assert suffix["present"] == 3  # III, and Sr / Jr split off last names
    assert suffix["validity_pct"] == 100.0 and suffix["completeness_pct"] == 75.0
    for info in profile["identity_fields"].values():
        for key in ("validity_pct", "completeness_pct"):
            assert info[key] is None or 0 <= info[key] <= 100
    assert profile["latest_ingest"]["lines"] == {"lines": 5, "header": 1, "blank": 0,
                                                 "loaded": 4}
