"""Nonces of accepted signed messages, kept until they expire (the replay window)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class SeenNonce(Base):
    __tablename__ = "seen_nonces"

    kid: Mapped[str] = mapped_column(String(128), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
