"""Versions of approved agreements (amendments, extensions, renewals; docs/amendments.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import AgreementVersion


def add_version(session: Session, *, request_id: str, version: int, kind: str,
                dsa: dict[str, Any], reason: str, status: str, round_: int,
                from_status: str | None, created_by: str,
                created_at: dt.datetime, decided_at: dt.datetime | None = None
                ) -> AgreementVersion:
    """Add one version (flushed, not committed)."""
    row = AgreementVersion(request_id=request_id, version=version, kind=kind, dsa=dsa,
                           reason=reason, status=status, round=round_,
                           from_status=from_status, created_by=created_by,
                           created_at=created_at, decided_at=decided_at)
    session.add(row)
    session.flush()
    return row


def get_version(session: Session, *, request_id: str, version: int,
                lock: bool = False) -> AgreementVersion | None:
    query = select(AgreementVersion).where(AgreementVersion.request_id == request_id,
                                           AgreementVersion.version == version)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def list_versions(session: Session, *, request_id: str) -> list[AgreementVersion]:
    """Every version of a project, oldest first."""
    query = (select(AgreementVersion).where(AgreementVersion.request_id == request_id)
             .order_by(AgreementVersion.version))
    return list(session.scalars(query))


def latest_version(session: Session, *, request_id: str,
                   lock: bool = False) -> AgreementVersion | None:
    """The project's newest version (the proposal while one is under review)."""
    query = (select(AgreementVersion).where(AgreementVersion.request_id == request_id)
             .order_by(AgreementVersion.version.desc()).limit(1))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()
