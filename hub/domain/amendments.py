"""What an amendment, extension or renewal may change (docs/amendments.md), and the
field-by-field difference between two versions of an agreement. Pure functions: the
service (:mod:`hub.services.amendments`) supplies today's date and the agreements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from hub.domain.dsa import DataSharingAgreement
from hub.errors import ConflictError, InvalidInputError

#: The kinds of change to an approved agreement.
KINDS: Final = ("amendment", "extension", "renewal")


@dataclass(frozen=True, slots=True)
class Change:
    """One changed field: its JSON path (``variables[0].variables[2]``), the value in force
    and the value proposed (``None`` where the field or list item does not exist)."""

    path: str
    before: Any
    after: Any


def diff(before: Any, after: Any, path: str = "") -> list[Change]:
    """Every leaf that differs between two JSON documents, in document order. Objects are
    compared key by key, lists item by item (an added item is a change from ``None``)."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in [*before, *(k for k in after if k not in before)]:
            sub = f"{path}.{key}" if path else str(key)
            changes += diff(before.get(key), after.get(key), sub)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            changes += diff(before[index] if index < len(before) else None,
                            after[index] if index < len(after) else None, f"{path}[{index}]")
        return changes
    return [] if before == after else [Change(path, before, after)]


def check_kind(kind: str, *, in_force: DataSharingAgreement, proposed: DataSharingAgreement,
               changes: list[Change], today: dt.date) -> None:
    """Refuse a proposal its kind does not allow: ``amendment`` keeps the term,
    ``extension`` only moves ``term_end`` later, ``renewal`` needs a renewable agreement
    and a later ``term_end`` (other fields may change with it). Every kind is proposed
    before the term in force ends."""
    if kind not in KINDS:
        raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}", code="bad_kind")
    if today > in_force.term_end:
        raise ConflictError(f"the term in force ended on {in_force.term_end}; an agreement is "
                            "amended, extended or renewed before its term ends",
                            code="term_ended")
    if not changes:
        raise InvalidInputError("the proposed agreement is the agreement in force",
                                code="nothing_changed")
    if kind == "amendment":
        if (proposed.term_start, proposed.term_end) != (in_force.term_start,
                                                        in_force.term_end):
            raise InvalidInputError("an amendment keeps the term; propose an extension or a "
                                    "renewal to change it", code="term_changed")
        return
    if proposed.term_end <= in_force.term_end:
        raise InvalidInputError(f"an {kind} moves term_end later than {in_force.term_end}",
                                code="term_not_later")
    if kind == "extension":
        others = sorted(c.path for c in changes if c.path != "term_end")
        if others:
            raise InvalidInputError(f"an extension changes term_end only (this one also "
                                    f"changes {', '.join(others)}); propose an amendment or "
                                    "a renewal", code="extension_changes_more")
        return
    if not in_force.renewal.renewable:
        raise ConflictError("the agreement in force is not renewable (renewal.renewable is "
                            "false); propose an extension or a new request",
                            code="not_renewable")
