"""Request lifecycle: the states and the explicit table of legal transitions.

::

    draft ──submit──▶ submitted ──first review──▶ in_review ──▶ approved ──▶ linking ──▶ ready
      │                  │  ▲                        │   │          │  ▲        │  │       │
      │                  │  └──resubmit── changes_requested ◀─┘   │  └─failed──┘  │       │
      │                  │                           │   └▶ denied  └──────▶ revoked ◀─────┘
      └──────────────────┴──────────▶ withdrawn ◀────┘              (approved|linking|ready)
                                                                     ──▶ expired (term over)

``linking`` and ``ready`` are used by the linkage and extract issues: a run moves an approved
project to ``linking``, a finished run to ``ready`` (a failed one back to where it started:
``approved``, or ``ready`` for a refresh whose earlier results still stand), and a refresh
from ``ready`` to ``linking`` again (docs/linkage-runs.md).

An approved or ready project can be amended, extended or renewed (docs/amendments.md):
``approved|ready ──propose──▶ amending ──decided──▶ approved|ready`` (back where it was,
with the new version in force if approved, the old one if not). ``amending`` is under
review; no linkage run starts in it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from hub.errors import IllegalTransitionError


class RequestStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    LINKING = "linking"
    READY = "ready"
    REVOKED = "revoked"
    EXPIRED = "expired"
    AMENDING = "amending"


S = RequestStatus

TRANSITIONS: Final[dict[RequestStatus, frozenset[RequestStatus]]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.DENIED, S.CHANGES_REQUESTED, S.WITHDRAWN}),
    S.CHANGES_REQUESTED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.LINKING, S.REVOKED, S.EXPIRED, S.AMENDING}),
    S.LINKING: frozenset({S.READY, S.APPROVED, S.REVOKED, S.EXPIRED}),
    S.READY: frozenset({S.LINKING, S.REVOKED, S.EXPIRED, S.AMENDING}),
    # Decided: back to where the amendment started (approved or ready).
    S.AMENDING: frozenset({S.APPROVED, S.READY, S.REVOKED, S.EXPIRED}),
    S.DENIED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.REVOKED: frozenset(),
    S.EXPIRED: frozenset(),
}

#: States in which the researcher may still edit the agreement.
EDITABLE: Final = frozenset({S.DRAFT, S.CHANGES_REQUESTED})
#: States in which reviews and steward decisions are accepted.
UNDER_REVIEW: Final = frozenset({S.SUBMITTED, S.IN_REVIEW, S.AMENDING})
#: States of a project that was approved at some point (public transparency).
APPROVED_ONCE: Final = frozenset({S.APPROVED, S.LINKING, S.READY, S.REVOKED, S.EXPIRED,
                                  S.AMENDING})
#: States in which nothing can happen any more.
TERMINAL: Final = frozenset(state for state, targets in TRANSITIONS.items() if not targets)


def can_transition(from_state: RequestStatus | str, to_state: RequestStatus | str) -> bool:
    return RequestStatus(to_state) in TRANSITIONS[RequestStatus(from_state)]


def transition(from_state: RequestStatus | str, to_state: RequestStatus | str) -> RequestStatus:
    """``to_state`` if the table allows it, else :class:`IllegalTransitionError` (409)."""
    if not can_transition(from_state, to_state):
        raise IllegalTransitionError(str(RequestStatus(from_state)), str(RequestStatus(to_state)))
    return RequestStatus(to_state)
