"""The rules of each classification level (docs/classification.md): defaults, stricter-only
order, nonsense refused, the legacy quorum setting folded in, and an extract's protection."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.domain.classification import (
    ClassificationRules,
    LevelRule,
    protection,
    strictest,
)


def test_restricted_defaults_to_outputs_only_and_a_third_approval() -> None:
    rules = ClassificationRules()
    assert (rules.restricted.record_level_download, rules.restricted.quorum) == (False, 3)
    assert all(rules.rule(level).record_level_download
               for level in ("public", "internal", "confidential"))
    rules.check_order(governance_quorum=2)


def test_unknown_level_is_treated_as_restricted() -> None:
    rules = ClassificationRules()
    assert rules.rule("secret") == rules.restricted
    assert strictest(["internal", "secret"]) == "restricted"
    assert strictest([]) == "public"
    assert strictest(["public", "confidential", "internal"]) == "confidential"


@pytest.mark.parametrize(("rules", "looser"), [
    ({"confidential": {"min_k": 10}}, "restricted is looser than confidential in min_k"),
    ({"internal": {"l_diversity": 3}}, "confidential is looser than internal in l_diversity"),
    ({"public": {"t_closeness": 0.2}}, "internal is looser than public in t_closeness"),
    ({"internal": {"t_closeness": 0.2}, "confidential": {"t_closeness": 0.3}},
     "confidential is looser than internal in t_closeness"),
    ({"internal": {"record_level_download": False}},
     "confidential is looser than internal in record_level_download"),
    ({"confidential": {"quorum": 4}}, "restricted is looser than confidential in quorum"),
])
def test_a_level_looser_than_the_one_below_is_refused(rules: dict, looser: str) -> None:
    with pytest.raises(ValueError, match=looser):
        ClassificationRules.model_validate(rules).check_order(governance_quorum=2)


def test_quorum_below_the_hub_quorum_is_refused() -> None:
    with pytest.raises(ValueError, match=r"restricted.quorum \(3\) is looser than "
                                         r"governance_quorum \(4\)"):
        ClassificationRules().check_order(governance_quorum=4)


@pytest.mark.parametrize("rule", [{"min_k": 1}, {"l_diversity": 1}, {"t_closeness": 1.5},
                                  {"min_k": -2}, {"quorum": 51}, {"k": 5}])
def test_nonsense_rule_refused(rule: dict) -> None:
    with pytest.raises(ValidationError):
        LevelRule.model_validate(rule)


def test_unknown_level_in_the_rules_refused() -> None:
    with pytest.raises(ValidationError, match="secret"):
        ClassificationRules.model_validate({"secret": {}})


def test_legacy_quorum_setting_folds_in_and_may_not_contradict() -> None:
    folded = ClassificationRules().with_quorums({"restricted": 4, "confidential": 3})
    assert (folded.restricted.quorum, folded.confidential.quorum) == (4, 3)
    explicit = ClassificationRules.model_validate({"restricted": {"quorum": 5,
                                                                 "record_level_download": False}})
    assert explicit.with_quorums({"restricted": 5}).restricted.quorum == 5
    with pytest.raises(ValueError, match="disagree"):
        explicit.with_quorums({"restricted": 4})


def test_protection_takes_the_strictest_level_and_marks_sensitive_variables() -> None:
    rules = ClassificationRules(
        internal=LevelRule(min_k=3), confidential=LevelRule(min_k=7, l_diversity=2),
        restricted=LevelRule(min_k=7, l_diversity=3, t_closeness=0.2,
                             record_level_download=False, quorum=3))
    variables = {
        "K12.grade": {"classification": "internal", "quasi_identifier": True},
        "K12.score": {"classification": "confidential", "quasi_identifier": False},
        "K12.school": {"classification": "confidential", "quasi_identifier": True},
    }
    found = protection(rules, variables, base_k=5)
    assert (found.level, found.k, found.record_level_download) == ("confidential", 7, True)
    # Quasi-identifiers are what classes are made of, never the sensitive attribute.
    assert found.sensitive == {"K12.score": (2, 0.0)}
    found = protection(rules, {**variables, "K12.iep": {"classification": "restricted"}},
                       base_k=9)
    assert (found.level, found.k, found.record_level_download) == ("restricted", 9, False)
    assert found.sensitive["K12.iep"] == (3, 0.2)
    assert found.report()["sensitive"]["K12.iep"] == {"l_diversity": 3, "t_closeness": 0.2}
    # A variable without a classification is restricted.
    assert protection(rules, {"K12.x": {}}, base_k=5).level == "restricted"
