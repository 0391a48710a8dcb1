"""The living data dictionary: facts recomputed from the store after ingest, small counts
suppressed, placeholders flagged, changes since publication, signed publication."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomlkit

from agency_node.ingest.loader import run_ingest
from agency_node.runtime import NodeRuntime
from agency_node.services.dictionary import (
    DICTIONARY_MIN_CELL,
    PUBLISHED_FILE,
    changes,
    compute,
    load_published,
    placeholders,
)
from protocol.keyfiles import key_id
from protocol.signing import MemoryReplayGuard, verify
from protocol.wire import DictionaryUpdate, body_as
from tests.agency_node.conftest import PEOPLE, write_csv


def _rows(year: int, count: int, *, start: int = 0, ell: str = "no") -> list[dict[str, str]]:
    base = PEOPLE[0]
    return [{**base, "record_id": f"K12-{year}-{start + i:04d}", "school_year": str(year),
             "grade_level": "9" if i % 2 else "10", "gpa": "" if i % 4 == 0 else "3.1",
             "ell": "yes" if i == 0 else ell, "ssn": ""} for i in range(count)]


def _ingest(node_dir: Path) -> None:
    with NodeRuntime.open(node_dir) as runtime:
        run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)


def _dictionary(node_dir: Path) -> dict[str, Any]:
    with NodeRuntime.open(node_dir) as runtime:
        return {v.name: v for v in compute(runtime.settings.node, runtime.sessions)}


def _set_description(node_dir: Path, variable: str, text: str) -> None:
    path = node_dir / "node.toml"
    doc = tomlkit.parse(path.read_text())
    doc["variables"][variable]["description"] = text  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc))


def test_years_completeness_and_codes_come_from_the_store(
        tmp_path: Path, make_node: Callable[..., Path]) -> None:
    source = write_csv(tmp_path / "k12.csv", _rows(2019, 24) + _rows(2020, 20, start=100))
    node_dir = make_node(source)
    _ingest(node_dir)
    variables = _dictionary(node_dir)
    grade = variables["grade_level"]
    assert grade.years == (2019, 2020)
    assert [(c.year, c.percent) for c in grade.completeness] == [(2019, 100), (2020, 100)]
    assert {c.code: c.count for c in grade.codes} == {"9": 22, "10": 22}
    # gpa is blank in every fourth row: 18/24 = 75 %, 15/20 = 75 %; numbers have no codes.
    gpa = variables["gpa"]
    assert [(c.year, c.percent) for c in gpa.completeness] == [(2019, 75), (2020, 75)]
    assert gpa.codes == ()


def test_counts_below_threshold_are_suppressed(
        tmp_path: Path, make_node: Callable[..., Path]) -> None:
    source = write_csv(tmp_path / "k12.csv", _rows(2019, 30))
    node_dir = make_node(source)
    _ingest(node_dir)
    ell = {c.code: c.count for c in _dictionary(node_dir)["ell"].codes}
    # One "yes" (1 < DICTIONARY_MIN_CELL): listed, its count withheld.
    assert ell == {"true": None, "false": 29}
    assert DICTIONARY_MIN_CELL > 1


def test_near_unique_column_is_not_a_code_list(
        tmp_path: Path, make_node: Callable[..., Path]) -> None:
    rows = _rows(2019, 12)
    for i, row in enumerate(rows):
        row["grade_level"] = str(i)  # every value once: no code list, no values published
    node_dir = make_node(write_csv(tmp_path / "k12.csv", rows))
    _ingest(node_dir)
    assert _dictionary(node_dir)["grade_level"].codes == ()


def test_new_year_after_reingest_is_a_change(
        tmp_path: Path, make_node: Callable[..., Path]) -> None:
    source = write_csv(tmp_path / "k12.csv", _rows(2019, 12))
    node_dir = make_node(source)
    _ingest(node_dir)
    before = tuple(_dictionary(node_dir).values())
    write_csv(source, _rows(2019, 12) + _rows(2022, 12, start=50))
    _ingest(node_dir)
    after = tuple(_dictionary(node_dir).values())
    assert {v.name: v.years for v in after}["grade_level"] == (2019, 2022)
    assert "grade_level: years 2019 → 2019, 2022" in changes(before, after)
    assert changes(after, after) == []


def test_placeholder_flag_clears_when_steward_writes_description(
        tmp_path: Path, make_node: Callable[..., Path]) -> None:
    node_dir = make_node(write_csv(tmp_path / "k12.csv", _rows(2019, 4)))
    _ingest(node_dir)
    assert "gpa" in placeholders(tuple(_dictionary(node_dir).values()))
    _set_description(node_dir, "gpa", "Grade point average on a 4-point scale")
    variables = _dictionary(node_dir)
    assert variables["gpa"].description_placeholder is False
    assert "gpa" not in placeholders(tuple(variables.values()))


def test_store_without_years_keeps_configured_years(node_dir: Path) -> None:
    # Nothing ingested yet: the years node init scanned stay.
    assert _dictionary(node_dir)["grade_level"].years == (2019, 2020, 2021)


class _Hub:
    """Records what the node sends (the real hub's side is tests/hub/api/test_hub_catalog)."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def publish_dictionary(self, envelope_json: bytes | str) -> dict[str, Any]:
        self.sent.append(envelope_json if isinstance(envelope_json, bytes)
                         else envelope_json.encode())
        return {"variables": 0}


def test_publish_signs_with_node_key_and_keeps_a_copy(node_dir: Path) -> None:
    from agency_node import keys
    from agency_node.services.dictionary import publish

    _ingest(node_dir)
    hub = _Hub()
    with NodeRuntime.open(node_dir) as runtime:
        result = publish(runtime, hub)  # type: ignore[arg-type]
    public = keys.load_signing_key(node_dir).public_key()
    envelope = verify(hub.sent[0], keyring={key_id(public): public},
                      expected_typ=DictionaryUpdate.TYP, replay_guard=MemoryReplayGuard())
    update = body_as(envelope, DictionaryUpdate)
    assert update.agency == "K12" and result.variables == len(update.dictionary)
    assert load_published(node_dir) == update.dictionary
    assert (node_dir / PUBLISHED_FILE).stat().st_mode & 0o077 == 0
    # No identity value travels in the dictionary.
    text = hub.sent[0].decode()
    assert all(p["last_name"] not in text and p["dob"] not in text for p in PEOPLE)


def test_string_codes_leave_only_when_the_steward_labelled_them(
        tmp_path: Path, make_node: Callable[..., Path]) -> None:
    rows = _rows(2019, 24)
    for i, row in enumerate(rows):
        row["grade_level"] = ["James Madison HS", "George Mason MS", "K12-X"][i % 3]
    node_dir = make_node(write_csv(tmp_path / "k12.csv", rows))
    path = node_dir / "node.toml"
    doc = tomlkit.parse(path.read_text())
    doc["variables"]["grade_level"]["type"] = "string"  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc))
    _ingest(node_dir)
    assert _dictionary(node_dir)["grade_level"].codes == ()
    doc = tomlkit.parse(path.read_text())
    doc["variables"]["grade_level"]["labels"] = {"K12-X": "Ungraded"}  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc))
    (entry,) = _dictionary(node_dir)["grade_level"].codes
    assert (entry.code, entry.label, entry.count) == ("K12-X", "Ungraded", None)


def test_small_year_has_no_completeness(tmp_path: Path, make_node: Callable[..., Path]) -> None:
    source = write_csv(tmp_path / "k12.csv", _rows(2019, 12) + _rows(2020, 3, start=50))
    node_dir = make_node(source)
    _ingest(node_dir)
    gpa = _dictionary(node_dir)["gpa"]
    assert gpa.years == (2019, 2020)
    assert [c.year for c in gpa.completeness] == [2019]
