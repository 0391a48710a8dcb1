"""The governance policy settings fail fast (docs/governance-policy.md): a quorum below two,
a checklist that repeats or is empty, a partial requester rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.settings import DEFAULT_CRITERIA, MIN_GOVERNANCE_QUORUM, HubSettings


@pytest.mark.parametrize("quorum", [0, 1])
def test_quorum_below_two_refused_with_a_clear_message(tmp_path: Path, quorum: int) -> None:
    with pytest.raises(ConfigError, match=f"governance_quorum is {quorum}: it must be at "
                       f"least {MIN_GOVERNANCE_QUORUM}"):
        HubSettings.load(tmp_path, governance_quorum=quorum)


def test_quorum_of_one_refused_from_hub_toml_and_environment(tmp_path: Path,
                                                             monkeypatch) -> None:
    (tmp_path / "hub.toml").write_text("governance_quorum = 1\n")
    with pytest.raises(ConfigError, match="at least 2"):
        HubSettings.load(tmp_path)
    (tmp_path / "hub.toml").write_text("governance_quorum = 2\n")
    monkeypatch.setenv("FEDLINK_HUB_GOVERNANCE_QUORUM", "1")
    with pytest.raises(ConfigError, match="at least 2"):
        HubSettings.load(tmp_path)


def test_default_policy(tmp_path: Path) -> None:
    settings = HubSettings.load(tmp_path)
    assert settings.governance_quorum == 2
    assert [(c.id, c.text) for c in settings.review_criteria] == list(DEFAULT_CRITERIA)
    vendor = settings.requester_rule("vendor")
    assert (vendor.extra_quorum, vendor.record_level_extract, vendor.agency_member) == (
        1, False, False)
    assert settings.requester_rule("agency_staff").agency_member is True
    assert settings.requester_rule("researcher").extra_quorum == 0


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"review_criteria": []}, "review_criteria"),
    ({"review_criteria": [{"id": "a", "text": "A"}, {"id": "a", "text": "B"}]},
     "repeats a criterion id"),
    ({"review_criteria": [{"id": "Bad Id", "text": "A"}]}, "review_criteria"),
    ({"review_criteria": [{"id": "a", "text": ""}]}, "review_criteria"),
    ({"requester_rules": {"vendor": {"extra_quorum": 2}}}, "requester_rules.vendor"),
    ({"requester_rules": {"vendor": {"extra_quorum": -1, "record_level_extract": True,
                                     "agency_member": False}}}, "extra_quorum"),
    ({"requester_rules": {"consultant": {"extra_quorum": 0, "record_level_extract": True,
                                         "agency_member": False}}}, "consultant"),
])
def test_unsafe_policy_refused(tmp_path: Path, overrides, expected) -> None:
    with pytest.raises(ConfigError, match=expected):
        HubSettings.load(tmp_path, **overrides)


def test_policy_from_hub_toml(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text(
        '[[review_criteria]]\nid = "equity"\ntext = "Benefits every community"\n'
        "[requester_rules.vendor]\nextra_quorum = 2\nrecord_level_extract = true\n"
        "agency_member = false\n")
    settings = HubSettings.load(tmp_path)
    assert [c.id for c in settings.review_criteria] == ["equity"]
    assert settings.requester_rule("vendor").extra_quorum == 2
    assert settings.requester_rule("vendor").record_level_extract is True
    # A type the file does not name keeps its default rule.
    assert settings.requester_rule("agency_staff").agency_member is True
