"""The research agenda and the review policy (docs/governance-policy.md): governance adds
and retires priority questions, everyone signed in reads them and the review checklist,
the public reads the agenda with the approved projects linked to each question."""

from __future__ import annotations

from enum import Enum
from typing import Any

from fastapi import APIRouter

from hub.api.deps import AnyUserCaller, ContextDep, GovernanceCaller, SessionDep
from hub.api.responses import PUBLIC, USER, USER_CHANGE
from hub.api.schemas import RowId
from hub.api.schemas_policy import (
    AgendaItemCreate,
    AgendaItemRetire,
    AgendaItemView,
    PublicAgenda,
    ReviewPolicy,
)
from hub.api.schemas_views import returns
from hub.services import agenda

router = APIRouter(prefix="/v1")
GOVERNANCE: list[str | Enum] = ["governance"]


@router.get("/agenda", tags=GOVERNANCE, responses=USER, **returns(list[AgendaItemView]),
            summary="The research agenda's priority questions [any user]")
def list_items(_caller: AnyUserCaller, session: SessionDep) -> list[dict[str, Any]]:
    """Every agenda item, oldest first, active and retired. An agreement links to active
    items by id (`agenda_items`); naming an unknown or retired one is refused (422
    `unknown_agenda_item`)."""
    return [agenda.item_view(item) for item in agenda.list_items(session)]


@router.post("/agenda", tags=GOVERNANCE, responses=USER, status_code=201, **returns(AgendaItemView),
             summary="Add a priority question to the research agenda [governance]")
def add_item(body: AgendaItemCreate, caller: GovernanceCaller, session: SessionDep,
             ctx: ContextDep) -> dict[str, Any]:
    """Add a priority question; it is published at once (`GET /v1/public/agenda`).
    Audited as `agenda.added`."""
    return agenda.item_view(agenda.add_item(session, ctx, caller, question=body.question,
                                            description=body.description))


@router.post("/agenda/{item_id}/retire", tags=GOVERNANCE, responses=USER_CHANGE,
             **returns(AgendaItemView),
             summary="Retire a priority question [governance]")
def retire_item(item_id: RowId, body: AgendaItemRetire, caller: GovernanceCaller,
                session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Retire an item: new agreements may no longer name it (approved projects keep their
    link). 404 for an unknown item, 409 `already_retired`. Audited as `agenda.retired`."""
    return agenda.item_view(agenda.retire_item(session, ctx, caller, item_id=item_id,
                                               reason=body.reason))


@router.get("/review-policy", tags=GOVERNANCE, responses=USER, **returns(ReviewPolicy),
            summary="The governance policy reviews follow [any user]")
def review_policy(_caller: AnyUserCaller, ctx: ContextDep) -> dict[str, Any]:
    """The review checklist every approval answers (each criterion met), the quorums, the
    IRB rule and the rules of each requester type, as this hub is configured."""
    settings = ctx.settings
    return {
        "review_criteria": [c.model_dump() for c in settings.review_criteria],
        "governance_quorum": settings.governance_quorum,
        "quorum_by_classification": dict(settings.quorum_by_classification),
        "classification_rules": settings.classification_rules.model_dump(),
        "require_irb_approval": settings.require_irb_approval,
        "requester_rules": settings.requester_rules.model_dump(),
    }


@router.get("/public/agenda", responses=PUBLIC, **returns(PublicAgenda), tags=["public"],
            summary="The published research agenda with its approved projects [public]")
def public_agenda(session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Every priority question of the research agenda with the approved projects linked to
    it (id and title, as the public list shows them). No token."""
    return agenda.public_agenda(session, ctx)
