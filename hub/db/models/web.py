"""Web sessions: a signed-in browser, stored server-side so it can be ended (docs/web.md).

Only the SHA-256 of the session id is stored; the id itself lives in the browser's
HTTP-only cookie. A session is bound to the API token that opened it, so revoking or
expiring that token ends the session too.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: The absolute end: sign-in plus ``web_session_hours``, never after the token's expiry.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The address that signed in (for the audit trail; ids and addresses, never names).
    source: Mapped[str] = mapped_column(String(64), default="")
