"""Agencies, enrollment tokens and the catalog."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.db.base import utcnow
from hub.db.models import Agency, CatalogVariable, EnrollmentToken


def create_agency(session: Session, *, code: str, name: str, url: str) -> Agency:
    agency = Agency(code=code, name=name, url=url, created_at=utcnow())
    session.add(agency)
    session.flush()
    return agency


def get_agency(session: Session, *, code: str) -> Agency | None:
    return session.get(Agency, code)


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.code)))


def create_enrollment_token(
    session: Session, *, agency_code: str, token_hash: str, expires_at: dt.datetime
) -> EnrollmentToken:
    token = EnrollmentToken(
        agency_code=agency_code, token_hash=token_hash, created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token


def find_enrollment_token(session: Session, *, token_hash: str) -> EnrollmentToken | None:
    return session.scalars(
        select(EnrollmentToken).where(EnrollmentToken.token_hash == token_hash)
    ).first()


def expire_enrollment_tokens(session: Session, *, agency_code: str, now: dt.datetime) -> None:
    """End every unused enrollment token of an agency (a new one is about to be issued)."""
    for token in session.scalars(select(EnrollmentToken).where(
            EnrollmentToken.agency_code == agency_code, EnrollmentToken.used_at.is_(None),
            EnrollmentToken.expires_at > now)):
        token.expires_at = now
    session.flush()


def replace_catalog(
    session: Session, *, agency_code: str, variables: Iterable[dict[str, object]]
) -> None:
    session.execute(delete(CatalogVariable).where(CatalogVariable.agency_code == agency_code))
    for variable in variables:
        session.add(CatalogVariable(agency_code=agency_code, **variable))
    session.flush()


def catalog(session: Session, *, agency_code: str | None = None) -> list[CatalogVariable]:
    query = select(CatalogVariable).order_by(CatalogVariable.agency_code, CatalogVariable.name)
    if agency_code is not None:
        query = query.where(CatalogVariable.agency_code == agency_code)
    return list(session.scalars(query))
