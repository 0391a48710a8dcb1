"""Safe people: the training every person must have current before they touch data.

Governance staff record a person's completion of a training (its name, completion date and
expiry, inclusive); nobody records their own. Before an extract download or an output
submission the hub checks that the caller holds a current completion of every training in
``HubSettings.required_training`` (when ``require_training`` is on): otherwise the call is
refused 403 ``training_required``, naming the missing or lapsed training and its expiry,
and the refusal is audited by the calling service (docs/hub.md, "Training").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import TrainingRecord
from hub.domain.roles import Caller, Principal, Role
from hub.errors import (
    HubError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TrainingRequiredError,
)
from hub.persistence import identity as user_store
from hub.persistence import training as store
from hub.services import audit
from hub.services.context import HubContext

#: Who may read anyone's training records; everyone may read their own.
READERS = frozenset({Role.GOVERNANCE, Role.ADMIN, Role.AUDITOR})
MAX_NAME = 100


def training_view(record: TrainingRecord, *, today: dt.date) -> dict[str, Any]:
    """The API's view of one record; ``current`` as of ``today`` (UTC)."""
    return {"id": record.id, "user_id": record.user_id, "training": record.training,
            "completed_on": record.completed_on.isoformat(),
            "expires_on": record.expires_on.isoformat(), "recorded_by": record.recorded_by,
            "recorded_at": record.recorded_at.isoformat(),
            "current": record.completed_on <= today <= record.expires_on}


def record_training(session: Session, ctx: HubContext, caller: Caller, *, user_id: int,
                    training: str, completed_on: dt.date,
                    expires_on: dt.date) -> TrainingRecord:
    """Record one completion for ``user_id`` (governance staff; never for themselves)."""
    fields: dict[str, Any] = {"object_type": "user", "object_id": str(user_id)}
    name = training.strip()
    try:
        principal = caller.principal
        if principal is None or principal.role != Role.GOVERNANCE:
            raise PermissionDeniedError("only governance staff record training")
        if principal.id == user_id:
            raise PermissionDeniedError("nobody records their own training",
                                        code="own_training")
        if user_store.get_user(session, user_id=user_id) is None:
            raise NotFoundError(f"user {user_id} does not exist")
        if not name or len(name) > MAX_NAME:
            raise InvalidInputError(f"a training name has 1 to {MAX_NAME} characters")
        if completed_on > ctx.now().date():
            raise InvalidInputError("a training cannot be completed in the future")
        if expires_on < completed_on:
            raise InvalidInputError("a training cannot expire before it was completed")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="training.record_refused", **fields)
    row = store.add_record(session, user_id=user_id, training=name, completed_on=completed_on,
                           expires_on=expires_on, recorded_by=caller.actor,
                           recorded_at=ctx.now())
    audit.record(session, ctx, caller, action="training.recorded", **fields,
                 detail={"training": name, "completed_on": completed_on.isoformat(),
                         "expires_on": expires_on.isoformat()})
    session.commit()
    return row


def list_training(session: Session, ctx: HubContext, caller: Caller, *,
                  user_id: int) -> list[TrainingRecord]:
    """A person's records: governance, admin and auditors see anyone's, others their own."""
    principal = caller.principal
    if principal is None or (principal.id != user_id and principal.role not in READERS):
        raise PermissionDeniedError("you may read only your own training records")
    if user_store.get_user(session, user_id=user_id) is None:
        raise NotFoundError(f"user {user_id} does not exist")
    return store.list_records(session, user_id=user_id)


def require_current_training(session: Session, ctx: HubContext,
                             principal: Principal | None) -> None:
    """Raise :class:`TrainingRequiredError` unless ``principal`` holds a current completion
    of every required training (a no-op when the hub does not require training)."""
    settings = ctx.settings
    if not settings.require_training or principal is None or principal.id is None:
        return
    today = ctx.now().date()
    records = store.list_records(session, user_id=principal.id)
    missing: list[dict[str, str | None]] = []
    for name in settings.required_training:
        mine = [r for r in records if r.training == name]
        if any(r.completed_on <= today <= r.expires_on for r in mine):
            continue
        # The latest expiry says when it lapsed; none means it was never recorded.
        lapsed = max((r.expires_on for r in mine), default=None)
        missing.append({"training": name,
                        "expired_on": lapsed.isoformat() if lapsed else None})
    if missing:
        parts = [f"{m['training']} (expired {m['expired_on']})" if m["expired_on"]
                 else f"{m['training']} (not recorded)" for m in missing]
        raise TrainingRequiredError(
            "a current completion of the required training is needed first: "
            + ", ".join(parts) + "; governance staff record it", missing=missing)


def refusal_detail(error: HubError) -> dict[str, Any]:
    """What an audited refusal adds for a training refusal: the missing trainings."""
    if isinstance(error, TrainingRequiredError):
        return {"missing_training": error.missing}
    return {}
