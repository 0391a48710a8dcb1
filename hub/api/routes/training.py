"""Safe people: governance staff record each person's training; people read their own
(hub.services.training, docs/hub.md "Training")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import AnyUserCaller, ContextDep, GovernanceCaller, SessionDep
from hub.api.responses import USER_OBJECT
from hub.api.schemas import RowId
from hub.api.schemas_training import TrainingCreate, TrainingView
from hub.api.schemas_views import returns
from hub.services import training

router = APIRouter(prefix="/v1", tags=["users"])


@router.post("/users/{user_id}/training", responses=USER_OBJECT, status_code=201,
             **returns(TrainingView),
             summary="Record a person's completion of a training [governance]")
def record(user_id: RowId, body: TrainingCreate, caller: GovernanceCaller,
           session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Record that the person completed a training on `completed_on`, counting through
    `expires_on`. Governance staff only, and never for themselves (403 `own_training`);
    404 for an unknown user; 422 for a completion in the future or an expiry before it.
    Personnel need a current completion of every required training before they download
    an extract or submit an output."""
    row = training.record_training(session, ctx, caller, user_id=user_id,
                                   training=body.training, completed_on=body.completed_on,
                                   expires_on=body.expires_on)
    return training.training_view(row, today=ctx.now().date())


@router.get("/users/{user_id}/training", responses=USER_OBJECT,
            **returns(list[TrainingView]),
            summary="A person's training records [own, governance, admin, auditor]")
def list_records(user_id: RowId, caller: AnyUserCaller, session: SessionDep,
                 ctx: ContextDep) -> list[dict[str, Any]]:
    """Every recorded completion of the person, latest expiry first, each saying whether
    it is current. Anyone reads their own; governance, admins and auditors anyone's (else
    403)."""
    today = ctx.now().date()
    return [training.training_view(r, today=today)
            for r in training.list_training(session, ctx, caller, user_id=user_id)]
