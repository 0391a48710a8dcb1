"""Protection by classification (docs/classification.md): the rules each level carries.

Every catalog variable is ``public``, ``internal``, ``confidential`` or ``restricted``. The
governance body tunes, per level, in ``hub.toml`` ``[classification_rules.<level>]``:

``min_k``
    the smallest k of an extract holding a variable of the level (0 = no floor beyond the
    agreement's ``extract.k_anonymity``); the extract is built with the largest k among its
    variables' levels and the agreement's.
``l_diversity``
    every equivalence class of the extract's quasi-identifiers shows at least this many
    distinct values of a sensitive (non-quasi-identifier) variable of the level; 0 = off.
``t_closeness``
    the distribution of such a variable in every class is within this total-variation
    distance of its distribution in the whole table; 0 = off.
``record_level_download``
    whether a record-level extract may hold a variable of the level at all (``restricted``:
    false, outputs only).
``quorum``
    the governance approvals a request asking a variable of the level needs (0 = the hub's
    ``governance_quorum``).

A level is never looser than the level below it (:meth:`ClassificationRules.check_order`):
a restricted variable protected less than a confidential one would be nonsense.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The levels, least to most sensitive.
LEVELS: Final = ("public", "internal", "confidential", "restricted")


class LevelRule(BaseModel):
    """What one classification level requires (every field has a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_k: int = Field(default=0, ge=0, le=100)
    l_diversity: int = Field(default=0, ge=0, le=50)
    t_closeness: float = Field(default=0.0, ge=0.0, le=1.0)
    record_level_download: bool = True
    quorum: int = Field(default=0, ge=0, le=50)

    @field_validator("min_k")
    @classmethod
    def _k_of_two(cls, value: int) -> int:
        if value == 1:
            raise ValueError("min_k = 1 protects nobody: use 0 (no floor) or at least 2")
        return value

    @field_validator("l_diversity")
    @classmethod
    def _l_of_two(cls, value: int) -> int:
        if value == 1:
            raise ValueError("l_diversity = 1 holds for every class: use 0 (off) or at "
                             "least 2")
        return value


def _defaults() -> dict[str, LevelRule]:
    return {"public": LevelRule(), "internal": LevelRule(), "confidential": LevelRule(),
            # Outputs only, and a third governance approval (the hub's old
            # quorum_by_classification default).
            "restricted": LevelRule(record_level_download=False, quorum=3)}


class ClassificationRules(BaseModel):
    """The rule of each level (a level not given keeps its default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    public: LevelRule = Field(default_factory=lambda: _defaults()["public"])
    internal: LevelRule = Field(default_factory=lambda: _defaults()["internal"])
    confidential: LevelRule = Field(default_factory=lambda: _defaults()["confidential"])
    restricted: LevelRule = Field(default_factory=lambda: _defaults()["restricted"])

    def rule(self, level: str) -> LevelRule:
        """The rule of ``level``; an unknown level is treated as ``restricted``."""
        value: LevelRule = getattr(self, level if level in LEVELS else "restricted")
        return value

    def check_order(self, governance_quorum: int) -> None:
        """Raise ValueError when a level is looser than the level below it, or its quorum
        below the hub's ``governance_quorum``."""
        for level in LEVELS:
            quorum = self.rule(level).quorum
            if quorum and quorum < governance_quorum:
                raise ValueError(
                    f"classification_rules.{level}.quorum ({quorum}) is looser than "
                    f"governance_quorum ({governance_quorum}); it may only be stricter")
        for lower, higher in itertools.pairwise(LEVELS):
            a, b = self.rule(lower), self.rule(higher)
            looser = [name for name, is_looser in (
                ("min_k", b.min_k < a.min_k),
                ("l_diversity", b.l_diversity < a.l_diversity),
                # 0 is off, the loosest; otherwise a smaller distance is stricter.
                ("t_closeness", bool(a.t_closeness)
                 and (not b.t_closeness or b.t_closeness > a.t_closeness)),
                ("record_level_download", b.record_level_download
                 and not a.record_level_download),
                ("quorum", max(b.quorum, governance_quorum)
                 < max(a.quorum, governance_quorum)),
            ) if is_looser]
            if looser:
                raise ValueError(
                    f"classification_rules.{higher} is looser than {lower} in "
                    f"{', '.join(looser)}: a more sensitive level may only be stricter")

    def with_quorums(self, quorums: dict[str, int]) -> ClassificationRules:
        """These rules with the legacy ``quorum_by_classification`` folded in: its value
        is the level's quorum, unless ``classification_rules`` names another one for the
        same level (ValueError: two settings disagree)."""
        update = {}
        for level, quorum in quorums.items():
            rule = self.rule(level)
            explicit = level in self.model_fields_set and "quorum" in rule.model_fields_set
            if explicit and rule.quorum != quorum:
                raise ValueError(
                    f"quorum_by_classification.{level} ({quorum}) and "
                    f"classification_rules.{level}.quorum ({rule.quorum}) disagree; "
                    "keep classification_rules only")
            update[level] = rule.model_copy(update={"quorum": quorum})
        return self.model_copy(update=update)


@dataclass(frozen=True, slots=True)
class Protection:
    """How an extract holding variables of ``levels`` is protected."""

    level: str
    k: int
    record_level_download: bool
    #: variable (``AGENCY.name``) → (l, t) for sensitive variables with a rule set.
    sensitive: dict[str, tuple[int, float]]

    def report(self) -> dict[str, Any]:
        """For the extract's disclosure summary."""
        return {"strictest_level": self.level, "k": self.k,
                "record_level_download": self.record_level_download,
                "sensitive": {name: {"l_diversity": l_value, "t_closeness": t_value}
                              for name, (l_value, t_value) in sorted(self.sensitive.items())}}


def strictest(levels: Iterable[str]) -> str:
    """The most sensitive of ``levels`` (an unknown level counts as ``restricted``;
    nothing at all as ``public``)."""
    ranks = [LEVELS.index(level) if level in LEVELS else len(LEVELS) - 1 for level in levels]
    return LEVELS[max(ranks, default=0)]


def required_k(rules: ClassificationRules, levels: Iterable[str], *, base_k: int) -> int:
    """The k data of these classification ``levels`` is held to: the agreement's
    ``base_k``, raised to the largest ``min_k`` among the levels."""
    return max([base_k, *(rules.rule(level).min_k for level in levels)])


def protection(rules: ClassificationRules, variables: dict[str, dict[str, Any]], *,
               base_k: int) -> Protection:
    """The protection of an extract whose ``variables`` (``AGENCY.name`` → catalog entry
    with ``classification`` and ``quasi_identifier``) are released, ``base_k`` being the
    agreement's k."""
    levels = {name: str(meta.get("classification") or "restricted")
              for name, meta in variables.items()}
    level = strictest(levels.values())
    k = required_k(rules, levels.values(), base_k=base_k)
    sensitive = {}
    for name, meta in variables.items():
        rule = rules.rule(levels[name])
        if not meta.get("quasi_identifier") and (rule.l_diversity or rule.t_closeness):
            sensitive[name] = (rule.l_diversity, rule.t_closeness)
    return Protection(level=level, k=k, sensitive=sensitive,
                      record_level_download=all(rules.rule(lv).record_level_download
                                                for lv in levels.values()))
