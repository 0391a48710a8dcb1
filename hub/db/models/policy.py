"""Governance policy (docs/governance-policy.md): the research agenda's priority questions
and the review checklist answers recorded with each governance review."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime


class AgendaItem(Base):
    """A priority question of the research agenda; requests link to it by ``id``. A
    retired item stays (approved projects keep their link) but new requests cannot name it."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    #: ``active`` or ``retired``.
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: The audit actor who added it (``user:3``).
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ReviewCriterionAnswer(Base):
    """One reviewer's answer to one checklist criterion, as the criterion read then."""

    __tablename__ = "review_criteria"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    criterion: Mapped[str] = mapped_column(String(64))
    #: The criterion's text when it was answered (the checklist may change later).
    text: Mapped[str] = mapped_column(Text)
    met: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
