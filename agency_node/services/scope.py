"""Is a verified hub request inside what this agency's steward approved on this node?

Each failed check raises :class:`~agency_node.errors.RefusedError` with its stable code and
a sentence naming what is out of scope (a variable, a year) — never a record value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from agency_node.errors import RefusedError
from agency_node.store.models import Approval
from protocol.canonical import canonical_json
from protocol.wire import Cohort


def require_approval(approval: Approval | None, *, project_id: str, today: dt.date) -> Approval:
    """The live approval of ``project_id``: decided 'approved' here, inside its term."""
    if approval is None or approval.decision != "approved":
        state = "denied" if approval is not None else "not approved"
        raise RefusedError(
            "not_approved",
            f"project {project_id} is {state} by this agency's steward on this node",
        )
    if today > dt.date.fromisoformat(approval.term_end):
        raise RefusedError("term_expired", f"the approved term ended on {approval.term_end}")
    if today < dt.date.fromisoformat(approval.term_start):
        raise RefusedError(
            "term_not_started", f"the approved term starts on {approval.term_start}"
        )
    return approval


def require_matching(approval: Approval, *, requested: bool) -> None:
    if not approval.matching_authorised:
        raise RefusedError(
            "matching_not_authorised", "the steward did not authorise matching for this project"
        )
    if not requested:
        raise RefusedError(
            "matching_not_authorised", "the request's own scope does not authorise matching"
        )


def require_variables(approval: Approval, variables: Iterable[str]) -> None:
    approved = set(approval.variables)
    for name in variables:
        if name not in approved:
            raise RefusedError("out_of_scope", f"variable {name!r} is not in the approved scope")


def require_years(approval: Approval, first_year: int, last_year: int) -> list[int]:
    approved = set(approval.years)
    for year in range(first_year, last_year + 1):
        if year not in approved:
            raise RefusedError("out_of_scope", f"year {year} is not in the approved scope")
    return list(range(first_year, last_year + 1))


def require_cohort(approval: Approval, cohort: Cohort) -> None:
    requested = cohort.model_dump(mode="json")
    if canonical_json(requested) != canonical_json(approval.cohort or {"conditions": []}):
        raise RefusedError("out_of_scope", "the cohort differs from the approved cohort")


def require_term(approval: Approval, term_start: dt.date, term_end: dt.date) -> None:
    if term_start.isoformat() < approval.term_start or term_end.isoformat() > approval.term_end:
        raise RefusedError(
            "out_of_scope",
            f"the requested term {term_start}..{term_end} is outside the approved term "
            f"{approval.term_start}..{approval.term_end}",
        )


def in_cohort(attributes: dict[str, Any], cohort: Cohort) -> bool:
    """True when a record's attributes meet every condition of ``cohort``."""
    for condition in cohort.conditions:
        value = attributes.get(condition.variable)
        if condition.kind == "equals":
            if not _same(value, condition.value):
                return False
        elif condition.kind == "in":
            if not any(_same(value, option) for option in condition.values):
                return False
        else:
            if not isinstance(value, int) or isinstance(value, bool):
                return False
            if condition.minimum is not None and value < condition.minimum:
                return False
            if condition.maximum is not None and value > condition.maximum:
                return False
    return True


def _same(value: Any, wanted: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    return value == wanted or str(value) == str(wanted)
