"""A project's output protection rules: its agreement's ``outputs`` within the hub's floors.

The hub sets floors (:class:`hub.settings.HubSettings` ``disclosure_min_cell``,
``safe_output_rounding_base``, ``safe_output_suppress_zeros``); an agreement's
:class:`hub.domain.dsa.OutputPolicy` may only tighten them — a higher threshold, a rounding
base that is a multiple of the hub's, zeros suppressed. An agreement that loosens one is
refused when it is drafted, edited or submitted (422 ``output_policy_below_floor``). If the
hub raises a floor after a project was approved, the floor wins for that field
(:func:`effective_rules`), so no table is ever protected below the hub's current floor.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.domain.dsa import OutputPolicy
from hub.errors import InvalidInputError
from hub.settings import HubSettings


@dataclass(frozen=True)
class OutputRules:
    """The rules a table is protected with, and which of them the agreement set."""

    min_cell: int
    rounding_base: int
    suppress_zeros: bool
    project_set: tuple[str, ...]


def _loosened(settings: HubSettings, policy: OutputPolicy) -> list[str]:
    """Why ``policy`` is below the hub's floors (one phrase per loosened field)."""
    problems = []
    if policy.min_cell is not None and policy.min_cell < settings.disclosure_min_cell:
        problems.append(f"outputs.min_cell {policy.min_cell} is below the hub's "
                        f"{settings.disclosure_min_cell}")
    base = settings.safe_output_rounding_base
    if policy.rounding_base is not None and policy.rounding_base % base:
        problems.append(f"outputs.rounding_base {policy.rounding_base} is not a multiple "
                        f"of the hub's {base}")
    if policy.suppress_zeros is False and settings.safe_output_suppress_zeros:
        problems.append("outputs.suppress_zeros cannot be false: the hub suppresses zeros")
    return problems


def check_policy(settings: HubSettings, policy: OutputPolicy) -> None:
    """422 ``output_policy_below_floor`` when the agreement loosens a hub floor."""
    problems = _loosened(settings, policy)
    if problems:
        raise InvalidInputError("; ".join(problems) + " (a project may only tighten the "
                                "hub's output rules)", code="output_policy_below_floor")


def effective_rules(settings: HubSettings, policy: OutputPolicy) -> OutputRules:
    """The rules for a project: each field the agreement sets, unless it is (now) below
    the hub's floor, when the floor applies instead."""
    floor_base = settings.safe_output_rounding_base
    min_cell = max(policy.min_cell or 0, settings.disclosure_min_cell)
    base = (policy.rounding_base if policy.rounding_base is not None
            and policy.rounding_base % floor_base == 0 else floor_base)
    zeros = bool(policy.suppress_zeros) or settings.safe_output_suppress_zeros
    project_set = tuple(name for name in ("min_cell", "rounding_base", "suppress_zeros")
                        if getattr(policy, name) is not None)
    return OutputRules(min_cell=min_cell, rounding_base=base, suppress_zeros=zeros,
                       project_set=project_set)
