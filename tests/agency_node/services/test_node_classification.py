"""The steward's decision on init's proposal (docs/classification.md): node.toml changed
with comments kept, audited, published to the hub; nonsense refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from agency_node.config import read_config
from agency_node.errors import ConfigError
from agency_node.runtime import NodeRuntime
from agency_node.services.classification import classify
from agency_node.services.dictionary import compute
from agency_node.store.models import AuditEvent
from tests.cli_support import run


def test_steward_confirms_or_changes_a_proposal_and_it_is_audited(node_dir: Path) -> None:
    before = read_config(node_dir).variables["ell"]
    assert before.classification == "restricted" and "proposed by node init" in (
        before.classification_reason)
    done = classify(node_dir, variable="ell", level="confidential")
    assert (done.before, done.after) == ("restricted", "confidential")
    after = read_config(node_dir).variables["ell"]
    assert (after.classification, after.classification_reason) == (
        "confidential", "set by the steward (was restricted)")
    assert "# classification: public / internal / confidential / restricted" in (
        node_dir / "node.toml").read_text()
    classify(node_dir, variable="gpa", level="confidential")
    assert read_config(node_dir).variables["gpa"].classification_reason == (
        "confirmed by the steward")
    with NodeRuntime.open(node_dir) as runtime:
        with runtime.sessions() as session:
            events = [(e.details["variable"], e.details["before"], e.outcome)
                      for e in session.scalars(select(AuditEvent).where(
                          AuditEvent.typ == "classification").order_by(AuditEvent.seq))]
        dictionary = {v.name: v.classification
                      for v in compute(runtime.settings.node, runtime.sessions)}
    assert events == [("ell", "restricted", "confidential"),
                      ("gpa", "confidential", "confidential")]
    assert dictionary["ell"] == "confidential"


@pytest.mark.parametrize(("variable", "level", "message"), [
    ("ell", "secret", "not one of public, internal, confidential, restricted"),
    ("sped", "restricted", "no variable 'sped'"),
])
def test_unknown_variable_or_level_refused(node_dir: Path, variable: str, level: str,
                                           message: str) -> None:
    text = (node_dir / "node.toml").read_text()
    with pytest.raises(ConfigError, match=message):
        classify(node_dir, variable=variable, level=level)
    assert (node_dir / "node.toml").read_text() == text


def test_cli_classify_and_show(node_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "node", "dictionary", "show", "--dir", str(node_dir))
    assert code == 0, err
    assert "ell (boolean, restricted)" in out
    assert "classification: proposed by node init: name suggests immigration" in out
    code, out, err = run(capsys, "node", "dictionary", "classify", "ell", "internal",
                          "--dir", str(node_dir))
    assert code == 0, err
    assert "ell: restricted → internal" in out and "dictionary publish" in out
    code, _, err = run(capsys, "node", "dictionary", "classify", "ell", "top",
                        "--dir", str(node_dir))
    assert code != 0 and err.startswith("fedlink: error:")
    assert len(err.strip().splitlines()) == 1
