"""The steward's decision on a variable's classification (docs/classification.md).

``fedlink node init`` proposes ``restricted`` for variables whose name or values suggest
special education, health, benefits, … (:mod:`agency_node.ingest.sensitivity`) and writes
why into node.toml (``classification_reason``). ``fedlink node dictionary classify VARIABLE
LEVEL`` is the steward's answer — confirm the proposal (same level) or change it: node.toml
gets the level and the proposal's reason is replaced by the steward's decision, comments and
other edits kept. Every decision is in the node's audit log (variable and levels, never a
value); the hub learns it with the next ``fedlink node dictionary publish``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomlkit

from agency_node.config import CLASSIFICATIONS, config_path, read_config
from agency_node.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Classified:
    """What a decision changed."""

    variable: str
    before: str
    after: str
    proposal: str


def classify(node_dir: Path, *, variable: str, level: str) -> Classified:
    """Set ``variable``'s classification to ``level`` in node.toml and audit it;
    :class:`ConfigError` for an unknown variable or level."""
    if level not in CLASSIFICATIONS:
        raise ConfigError(f"classification {level!r} is not one of "
                          f"{', '.join(CLASSIFICATIONS)}")
    config = read_config(node_dir)
    declared = config.variables.get(variable)
    if declared is None:
        raise ConfigError(f"node.toml has no variable {variable!r} "
                          f"(variables: {', '.join(sorted(config.variables))})")
    path = config_path(node_dir)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = doc["variables"][variable]
    table["classification"] = level
    decision = ("confirmed by the steward" if level == declared.classification
                else f"set by the steward (was {declared.classification})")
    table["classification_reason"] = decision
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    read_config(node_dir)  # what was written still validates
    from agency_node.runtime import NodeRuntime

    with NodeRuntime.open(node_dir) as runtime:
        runtime.audit.append(actor="steward", typ="classification", outcome=level,
                             details={"variable": variable,
                                      "before": declared.classification, "after": level,
                                      "proposal": declared.classification_reason})
    return Classified(variable=variable, before=declared.classification, after=level,
                      proposal=declared.classification_reason)
