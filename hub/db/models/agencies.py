"""Agencies, their one-time enrollment tokens, and the catalog their nodes publish."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime


class Agency(Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: The node's Ed25519 public key (raw, base64url) and its kid, set at enrollment.
    signing_public_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signing_kid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enrolled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: ``published_at`` of the last node-signed dictionary update accepted (later ones only).
    dictionary_published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(),
                                                                         nullable=True)
    #: The node's declaration about its person ids (protocol.wire.PersonIds): ``unique`` or
    #: ``may_duplicate`` (runs then deduplicate the agency); set at enrollment and by every
    #: accepted dictionary update.
    person_ids: Mapped[str] = mapped_column(String(16), default="unique")


class EnrollmentToken(Base):
    __tablename__ = "enrollment_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CatalogVariable(Base):
    """One attribute variable an agency's node offers: names and metadata, never values."""

    __tablename__ = "catalog_variables"
    __table_args__ = (UniqueConstraint("agency_code", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(32))
    years: Mapped[list[int]] = mapped_column(JSON)
    classification: Mapped[str] = mapped_column(String(32))
    quasi_identifier: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``[{"year", "percent"}]`` and ``[{"code", "label", "count"}]`` from the node's living
    #: dictionary; counts below the disclosure threshold are ``null``.
    completeness: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    codes: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    description_placeholder: Mapped[bool] = mapped_column(Boolean, default=False)
