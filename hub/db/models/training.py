"""Safe people: completions of the hub's required training, recorded by governance
(hub.services.training, docs/hub.md "Training")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime


class TrainingRecord(Base):
    """One person's completion of one training, valid from ``completed_on`` through
    ``expires_on`` (inclusive). A renewal is a new row; old rows stay as history."""

    __tablename__ = "training_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    training: Mapped[str] = mapped_column(String(100))
    completed_on: Mapped[dt.date] = mapped_column(Date())
    expires_on: Mapped[dt.date] = mapped_column(Date())
    #: The audit actor who recorded it (``user:3``, ``operator``).
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
