"""Incidents, the node audit events handed in for them, their notifications; and the reads
containment needs (a project's personnel accounts, their tokens and open web sessions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.db.models import (
    ApiToken,
    AuditEvent,
    Extract,
    Incident,
    IncidentNodeEvent,
    IncidentNotification,
    OutputSubmission,
    User,
    WebSession,
)


def create_incident(session: Session, *, values: dict[str, Any]) -> Incident:
    incident = Incident(**values)
    session.add(incident)
    session.flush()
    return incident


def get_incident(session: Session, *, incident_id: str, lock: bool = False) -> Incident | None:
    query = select(Incident).where(Incident.id == incident_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def list_incidents(session: Session, *, statuses: Iterable[str] | None = None,
                   notifiable: bool | None = None) -> list[Incident]:
    """Incidents, newest found first."""
    query = select(Incident).order_by(Incident.found_at.desc(), Incident.id)
    if statuses is not None:
        query = query.where(Incident.status.in_(list(statuses)))
    if notifiable is not None:
        query = query.where(Incident.notifiable.is_(notifiable))
    return list(session.scalars(query))


def personnel_users(session: Session, *, user_ids: Iterable[int],
                    emails: Iterable[str]) -> list[User]:
    """Researcher accounts that are the project's personnel: by id (the requester) or by
    the e-mail the agreement names (case-insensitive)."""
    ids, mails = list(user_ids), [e.lower() for e in emails]
    query = select(User).where(User.role == "researcher").where(
        or_(User.id.in_(ids), func.lower(User.email).in_(mails))).order_by(User.id)
    return list(session.scalars(query))


def live_tokens(session: Session, *, user_ids: Iterable[int]) -> list[ApiToken]:
    """The users' tokens not yet revoked (expired ones included: revoking them is free)."""
    query = select(ApiToken).where(ApiToken.user_id.in_(list(user_ids)),
                                   ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
    return list(session.scalars(query))


def open_sessions(session: Session, *, user_ids: Iterable[int]) -> list[WebSession]:
    query = select(WebSession).where(WebSession.user_id.in_(list(user_ids)),
                                     WebSession.ended_at.is_(None)).order_by(WebSession.id)
    return list(session.scalars(query))


def add_node_events(session: Session, *, incident_id: str, agency: str,
                    rows: Iterable[dict[str, Any]], now: dt.datetime) -> int:
    """Store node events not already held (by agency and sequence number); how many."""
    held = set(session.scalars(select(IncidentNodeEvent.seq).where(
        IncidentNodeEvent.incident_id == incident_id, IncidentNodeEvent.agency == agency)))
    added = 0
    for row in rows:
        if row["seq"] in held:
            continue
        session.add(IncidentNodeEvent(incident_id=incident_id, agency=agency, uploaded_at=now,
                                      **row))
        held.add(row["seq"])
        added += 1
    session.flush()
    return added


def node_events(session: Session, *, incident_id: str) -> list[IncidentNodeEvent]:
    query = select(IncidentNodeEvent).where(IncidentNodeEvent.incident_id == incident_id) \
        .order_by(IncidentNodeEvent.agency, IncidentNodeEvent.seq)
    return list(session.scalars(query))


def add_notification(session: Session, *, incident_id: str, channel: str, target: str,
                     outcome: str, error: str, now: dt.datetime) -> IncidentNotification:
    row = IncidentNotification(incident_id=incident_id, channel=channel, target=target[:500],
                               outcome=outcome, error=error[:500], sent_at=now)
    session.add(row)
    session.flush()
    return row


def notifications(session: Session, *, incident_id: str) -> list[IncidentNotification]:
    query = select(IncidentNotification).where(
        IncidentNotification.incident_id == incident_id).order_by(IncidentNotification.id)
    return list(session.scalars(query))


def steward_and_governance_users(session: Session, *, agencies: Iterable[str]) -> list[User]:
    """Active stewards of ``agencies`` and every active governance member."""
    codes = list(agencies)
    query = select(User).where(User.active.is_(True)).where(
        or_(User.role == "governance", (User.role == "steward")
            & User.agency_code.in_(codes))).order_by(User.id)
    return list(session.scalars(query))


def project_events(session: Session, *, project_id: str, after_seq: int,
                   limit: int) -> list[AuditEvent]:
    """Audit events about a project: tagged with it, or naming one of its extracts or
    outputs (a refusal to an outsider who may not see the project is not tagged with it)."""
    extracts = select(Extract.id).where(Extract.project_id == project_id)
    outputs = select(OutputSubmission.id).where(OutputSubmission.project_id == project_id)
    query = select(AuditEvent).where(AuditEvent.seq > after_seq).where(or_(
        AuditEvent.project == project_id,
        (AuditEvent.object_type == "extract") & AuditEvent.object_id.in_(extracts),
        (AuditEvent.object_type == "output") & AuditEvent.object_id.in_(outputs),
    )).order_by(AuditEvent.seq).limit(limit)
    return list(session.scalars(query))
