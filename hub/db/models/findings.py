"""Findings back to agencies (docs/findings.md): reports researchers upload to a project,
the stewards' comments and objections during the review window, and the publications
register. Reports hold the researchers' aggregate findings (papers, briefs), never records.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime

REPORT_STATUSES: Final = ("in_review", "released")
REPORT_KINDS: Final = ("interim", "final", "brief", "other")
COMMENT_KINDS: Final = ("comment", "objection")


class FindingsReport(Base):
    """One uploaded report (interim report, final paper, brief): shared at once with the
    project's agencies' stewards and governance; public only once ``released``."""

    __tablename__ = "findings_reports"
    __table_args__ = (
        CheckConstraint("status IN ('in_review', 'released')", name="status"),
        CheckConstraint("kind IN ('interim', 'final', 'brief', 'other')", name="kind"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    #: The agreement's deliverable it answers (its title), if any.
    deliverable: Mapped[str | None] = mapped_column(String(300), nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: The agreement's ``findings_review_days`` at upload, and when the window closes.
    review_days: Mapped[int] = mapped_column(Integer)
    review_ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The audit actor who released it (``user:3``).
    released_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class FindingsComment(Base):
    """A steward's (or governance member's) comment on a report, or an objection that
    blocks its release while it stands (not withdrawn, not overridden)."""

    __tablename__ = "findings_comments"
    __table_args__ = (
        CheckConstraint("kind IN ('comment', 'objection')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("findings_reports.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The author's role (steward, governance, researcher) and, for a steward, agency.
    author_role: Mapped[str] = mapped_column(String(16))
    agency_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    overridden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The governance member's audit actor and reason when an objection was overridden.
    overridden_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Publication(Base):
    """An entry of the public publications register, linked to its project (and to the
    released report it publishes, if any)."""

    __tablename__ = "publications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    report_id: Mapped[str | None] = mapped_column(ForeignKey("findings_reports.id"),
                                                  nullable=True)
    citation: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    doi: Mapped[str | None] = mapped_column(String(200), nullable=True)
    published_on: Mapped[dt.date] = mapped_column(Date())
    added_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
