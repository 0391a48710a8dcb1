"""People, their roles, and API tokens (user and node principals)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    #: Stewards are bound to one agency; everyone else has none.
    agency_code: Mapped[str | None] = mapped_column(
        ForeignKey("agencies.code"), nullable=True, index=True
    )
    institution: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: When the account first became usable; ``None`` while a privileged account waits for
    #: the governance quorum (hub.services.invitations). Kept when deactivated.
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiToken(Base):
    """A bearer token, stored as the SHA-256 of its text (never the text itself).

    ``kind`` is ``user`` (then ``user_id``) or ``node`` (then ``agency_code``): node tokens
    come from enrollment and are admitted only on ``/v1/node/...``.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
