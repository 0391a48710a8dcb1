"""Extracts, their wrapped keys and stewards' decisions on held extracts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from hub.db.models import Extract, ExtractDecision, ExtractKey


def create_extract(session: Session, *, values: dict[str, Any]) -> Extract:
    extract = Extract(**values)
    session.add(extract)
    session.flush()
    return extract


def get_extract(session: Session, *, extract_id: str, lock: bool = False) -> Extract | None:
    query = select(Extract).where(Extract.id == extract_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def list_extracts(session: Session, *, project_ids: Iterable[str] | None = None,
                  statuses: Iterable[str] | None = None) -> list[Extract]:
    query = select(Extract).order_by(Extract.created_at, Extract.id)
    if project_ids is not None:
        query = query.where(Extract.project_id.in_(list(project_ids)))
    if statuses is not None:
        query = query.where(Extract.status.in_(list(statuses)))
    return list(session.scalars(query))


def add_key(session: Session, *, extract_id: str, kwk_id: str, wrapped_key: bytes,
            now: dt.datetime) -> ExtractKey:
    row = ExtractKey(extract_id=extract_id, kwk_id=kwk_id, wrapped_key=wrapped_key,
                     created_at=now)
    session.add(row)
    session.flush()
    return row


def get_key(session: Session, *, extract_id: str) -> ExtractKey | None:
    return session.get(ExtractKey, extract_id)


def destroy_key(session: Session, *, extract_id: str) -> bool:
    """Overwrite the wrapped key with zeros, then delete the row; whether there was one.

    On SQLite ``secure_delete`` is switched on for this connection so the freed page is
    zeroed too; on PostgreSQL the old row version lingers until VACUUM (docs/extracts.md).
    """
    row = session.get(ExtractKey, extract_id)
    if row is None:
        return False
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))
    session.execute(update(ExtractKey).where(ExtractKey.extract_id == extract_id)
                    .values(wrapped_key=bytes(len(row.wrapped_key)), kwk_id="destroyed"))
    session.execute(delete(ExtractKey).where(ExtractKey.extract_id == extract_id))
    session.expunge(row)
    return True


def add_decision(session: Session, *, extract_id: str, agency_code: str, steward_id: int,
                 decision: str, reason: str, now: dt.datetime) -> ExtractDecision:
    row = ExtractDecision(extract_id=extract_id, agency_code=agency_code,
                          steward_id=steward_id, decision=decision, reason=reason,
                          created_at=now)
    session.add(row)
    session.flush()
    return row


def decisions(session: Session, *, extract_id: str) -> list[ExtractDecision]:
    query = (select(ExtractDecision).where(ExtractDecision.extract_id == extract_id)
             .order_by(ExtractDecision.id))
    return list(session.scalars(query))
