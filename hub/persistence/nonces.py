"""A database-backed :class:`protocol.signing.ReplayGuard`, shared by every hub process."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db.models import SeenNonce


class DbReplayGuard:
    """Remembers ``(kid, nonce)`` in ``seen_nonces`` inside the caller's transaction, so a
    refused message (rolled back) does not burn its nonce and an accepted one is remembered
    exactly when its effect is committed."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def check_and_remember(self, kid: str, nonce: str, expires_at: int, now: int) -> bool:
        self._session.execute(delete(SeenNonce).where(SeenNonce.expires_at <= now))
        try:
            with self._session.begin_nested():
                self._session.add(SeenNonce(kid=kid, nonce=nonce, expires_at=expires_at))
        except IntegrityError:
            return False
        return True
