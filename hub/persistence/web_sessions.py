"""Web sessions (server-side, looked up by the SHA-256 of the cookie's session id)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from hub.db.models import WebSession


def create_session(
    session: Session, *, session_hash: str, user_id: int, token_id: int, now: dt.datetime,
    expires_at: dt.datetime, source: str,
) -> WebSession:
    row = WebSession(session_hash=session_hash, user_id=user_id, token_id=token_id,
                     created_at=now, last_seen_at=now, expires_at=expires_at,
                     source=source[:64])
    session.add(row)
    session.flush()
    return row


def find_session(session: Session, *, session_hash: str) -> WebSession | None:
    return session.scalars(
        select(WebSession).where(WebSession.session_hash == session_hash)
    ).first()


def purge_sessions(session: Session, *, ended_before: dt.datetime) -> int:
    """Delete sessions that ended or expired before ``ended_before`` (they can never be
    resumed; the audit log keeps the record of their start and end)."""
    result = session.execute(
        delete(WebSession).where(or_(WebSession.expires_at < ended_before,
                                     WebSession.ended_at < ended_before))
    )
    return int(getattr(result, "rowcount", 0) or 0)
