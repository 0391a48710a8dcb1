"""A database-backed replay guard: nonces survive restarts of the node service."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agency_node.store.models import SeenNonce

# Nonces are kept this long past their message's expiry, so a verifier's clock-skew
# allowance can never reopen the window for a forgotten nonce.
_KEEP_PAST_EXPIRY_SECONDS = 3600.0


def _epoch(value: float | dt.datetime) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


class DatabaseReplayGuard:
    """Implements :class:`protocol.signing.ReplayGuard` over the ``seen_nonces`` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def check_and_remember(
        self, kid: str, nonce: str, expires_at: float | dt.datetime, now: float | dt.datetime
    ) -> bool:
        """True when (kid, nonce) is new (and is now remembered until ``expires_at``)."""
        with self._sessions() as session:
            horizon = _epoch(now) - _KEEP_PAST_EXPIRY_SECONDS
            session.execute(delete(SeenNonce).where(SeenNonce.expires_at < horizon))
            session.commit()
            session.add(SeenNonce(kid=kid, nonce=nonce, expires_at=_epoch(expires_at)))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True
