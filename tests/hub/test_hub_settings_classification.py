"""hub.toml's classification rules (docs/classification.md): read from TOML and the
environment, the old quorum_by_classification still understood, nonsense refused at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.settings import HubSettings


def test_rules_from_toml_and_the_effective_quorums(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text(
        "[classification_rules.confidential]\nmin_k = 8\nl_diversity = 2\nquorum = 3\n"
        "[classification_rules.restricted]\nmin_k = 10\nl_diversity = 3\nquorum = 4\n"
        "record_level_download = false\n")
    settings = HubSettings.load(tmp_path)
    rules = settings.classification_rules
    assert (rules.confidential.min_k, rules.restricted.l_diversity) == (8, 3)
    assert settings.quorum_by_classification == {"confidential": 3, "restricted": 4}
    assert settings.quorum_for({"internal"}) == 2
    assert settings.quorum_for({"internal", "confidential"}) == 3
    assert settings.quorum_for({"restricted"}) == 4


def test_old_quorum_by_classification_still_sets_the_quorum(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text("[quorum_by_classification]\nrestricted = 5\n")
    settings = HubSettings.load(tmp_path)
    assert settings.classification_rules.restricted.quorum == 5
    assert settings.classification_rules.restricted.record_level_download is False
    assert settings.quorum_for({"restricted"}) == 5


def test_rules_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDLINK_HUB_CLASSIFICATION_RULES",
                       '{"restricted": {"record_level_download": false, "quorum": 3, '
                       '"min_k": 11}}')
    assert HubSettings.load(tmp_path).classification_rules.restricted.min_k == 11


@pytest.mark.parametrize(("toml", "expected"), [
    ("[classification_rules.confidential]\nmin_k = 9\n", "looser than confidential in min_k"),
    ("[classification_rules.restricted]\nrecord_level_download = true\n"
     "[classification_rules.confidential]\nrecord_level_download = false\n",
     "looser than confidential in record_level_download"),
    ("[classification_rules.secret]\nmin_k = 5\n", "secret"),
    ("[classification_rules.restricted]\nl_diversity = 1\n", "l_diversity = 1"),
    ("[classification_rules.restricted]\nmin_k = 1\n", "min_k = 1"),
    ("[classification_rules.internal]\nt_closeness = 2.0\n", "t_closeness"),
    ("[classification_rules.internal]\nk = 5\n", "internal.k: Extra inputs"),
    ("[classification_rules.restricted]\nquorum = 5\nrecord_level_download = false\n"
     "[quorum_by_classification]\nrestricted = 4\n", "disagree"),
])
def test_nonsense_classification_rules_fail_at_load(tmp_path: Path, toml: str,
                                                    expected: str) -> None:
    (tmp_path / "hub.toml").write_text(toml)
    with pytest.raises(ConfigError, match=expected):
        HubSettings.load(tmp_path)
