"""Incident response (docs/incident-response.md): the incident record, the node audit events
the agencies handed in for its access report, and every notification sent (or that failed).

The timeline of an incident is its ``incident.*`` events in the hub's audit log, not a
table: the chain makes it tamper-evident like every other state change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime

INCIDENT_STATUSES: Final = ("open", "contained", "closed")
INCIDENT_SEVERITIES: Final = ("low", "medium", "high", "critical")
NOTIFICATION_CHANNELS: Final = ("email", "webhook")
NOTIFICATION_OUTCOMES: Final = ("sent", "failed")


class Incident(Base):
    """A suspected or confirmed breach: what happened, when it was found, which project and
    data it involves, how severe it is, and how far the response has come."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'contained', 'closed')", name="status"),
        CheckConstraint("severity IN ('low', 'medium', 'high', 'critical')", name="severity"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    found_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    #: The project the incident involves (null: not tied to one project).
    project_id: Mapped[str | None] = mapped_column(ForeignKey("requests.id"), nullable=True,
                                                   index=True)
    #: ``[{"agency": code, "variables": [names]}]``: names of variables, never values.
    data_involved: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: Whether policy makes it notifiable (the public page lists notifiable incidents).
    notifiable: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What the public page says about it (no names, no records).
    public_summary: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    contained_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: What containment did (tokens, sessions, users, extracts, nodes reached).
    containment: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")


class IncidentNodeEvent(Base):
    """One event of an agency node's audit log about the incident's project, handed in by
    the agency (the hub cannot read node logs): part of the access report."""

    __tablename__ = "incident_node_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    agency: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(256))
    typ: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class IncidentNotification(Base):
    """One notification attempt (an e-mail to one address, or the webhook): failures are
    kept so nobody assumes a steward was told when they were not."""

    __tablename__ = "incident_notifications"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'webhook')", name="channel"),
        CheckConstraint("outcome IN ('sent', 'failed')", name="outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
