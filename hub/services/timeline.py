"""A project's status timeline, read from the audit chain (the record auditors verify).

Only the lifecycle events of the one request are read — drafted, edited, submitted,
reviewed, each agency's signed decision, approved, denied, sent back, withdrawn, linking,
linked or failed, revoked, expired, closed — and shown without the actor: the researcher
sees *what* happened and when, not which governance member or steward did it (docs/hub.md
keeps reviewer names from researchers too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hub.persistence import audit as audit_store

_DECISIONS = {"approve": "approved", "deny": "denied", "request_changes": "asked for changes"}
_LABELS = {
    "request.created": "Drafted",
    "request.edited": "Agreement edited",
    "request.submitted": "Submitted for review",
    "request.in_review": "Review started",
    "request.reviewed": "A governance member {decision}",
    "request.agency_decision": "Agency {agency} {decision} (signed on its node)",
    "request.changes_requested": "Sent back for changes",
    "request.approved": "Approved",
    "request.denied": "Denied",
    "request.withdrawn": "Withdrawn",
    "request.revoked": "Revoked",
    "request.linking": "Linkage run started",
    "request.link_failed": "Linkage run failed",
    "request.ready": "Records linked: the extract can be built",
    "request.expired": "Term ended: expired",
    "request.closed": "Closed",
    # Amendments, extensions, renewals (docs/amendments.md).
    "request.amending": "A new version of the agreement was proposed",
    "request.amendment_approved": "The proposed version was approved: now in force",
    "request.amendment_denied": "The proposed version was denied: the version in force stays",
    "request.amendment_returned": "The proposed version was sent back for changes",
    "request.amendment_withdrawn": "The proposed version was withdrawn",
    "request.amendment_lapsed": "The proposed version lapsed: the term ended first",
    "request.agency_reconfirmed": "Agency {agency} confirmed the terms in force again",
}


@dataclass(frozen=True)
class TimelineEntry:
    ts: str
    seq: int
    label: str
    round: int | None
    reason: str
    #: ``approved``/``denied``/… for the outcome steps (for styling), else ``""``.
    outcome: str


def project_timeline(session: Session, *, request_id: str) -> list[TimelineEntry]:
    entries = []
    for event in audit_store.project_events(session, project=request_id, actions=_LABELS):
        detail: dict[str, Any] = event.detail or {}
        decision = _DECISIONS.get(str(detail.get("decision", "")), "")
        label = _LABELS[event.action].format(decision=decision, agency=event.agency)
        outcome = event.action.removeprefix("request.") if event.action in (
            "request.approved", "request.denied", "request.changes_requested",
            "request.revoked", "request.expired", "request.withdrawn") else ""
        entries.append(TimelineEntry(
            ts=event.ts, seq=event.seq, label=label,
            round=detail.get("round") if isinstance(detail.get("round"), int) else None,
            reason=str(detail.get("reason", "")), outcome=outcome,
        ))
    return entries
