"""``[mapping] person_ids`` in node.toml: the agency's declaration about its person ids —
written by ``node init`` as ``"unique"``, kept by a re-map, and a bad value refused in one
line (exit 2) before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit

from agency_node.config import SourceSection, read_config
from agency_node.errors import ConfigError
from agency_node.setup import init_node
from fedlink.cli import main


def run(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def set_person_ids(node_dir: Path, value: object) -> None:
    path = node_dir / "node.toml"
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    doc["mapping"]["person_ids"] = value  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def test_node_init_writes_person_ids_unique_with_a_comment(node_dir: Path) -> None:
    text = (node_dir / "node.toml").read_text(encoding="utf-8")
    assert 'person_ids = "unique"' in text
    assert "may_duplicate" in text  # the comment says what the other value means
    assert read_config(node_dir).mapping.person_ids == "unique"


def test_node_toml_without_person_ids_means_unique(node_dir: Path) -> None:
    path = node_dir / "node.toml"
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    del doc["mapping"]["person_ids"]  # type: ignore[attr-defined]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    assert read_config(node_dir).mapping.person_ids == "unique"


def test_node_toml_person_ids_may_duplicate_is_read(node_dir: Path) -> None:
    set_person_ids(node_dir, "may_duplicate")
    assert read_config(node_dir).mapping.person_ids == "may_duplicate"


@pytest.mark.parametrize("value", ["sometimes", "Unique", "", 1, True])
def test_node_toml_bad_person_ids_refused_in_one_sentence(node_dir: Path,
                                                          value: object) -> None:
    set_person_ids(node_dir, value)
    with pytest.raises(ConfigError, match="person_ids") as caught:
        read_config(node_dir)
    assert "\n" not in str(caught.value)


def test_node_command_with_a_bad_person_ids_exits_2_in_one_line(
        node_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_person_ids(node_dir, "sometimes")
    capsys.readouterr()
    assert run("node", "ingest", "--dir", str(node_dir)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fedlink: error: ")
    assert "person_ids" in err[0] and "may_duplicate" in err[0]


def test_remap_keeps_the_stewards_person_ids_declaration(node_dir: Path,
                                                        source_csv: Path) -> None:
    set_person_ids(node_dir, "may_duplicate")
    init_node(node_dir, agency="K12", name="K12 agency",
              source=SourceSection(kind="csv", path=str(source_csv)), remap=True)
    assert read_config(node_dir).mapping.person_ids == "may_duplicate"
