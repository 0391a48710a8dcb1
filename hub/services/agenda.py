"""The research agenda (docs/governance-policy.md): priority questions the governance body
publishes and requests link to (the agreement's ``agenda_items``).

Governance members add and retire items; everyone signed in reads them; the public sees
every item with the approved projects that answer it (``GET /v1/public/agenda`` and the
public page). A retired item keeps its approved projects but no new agreement may name it
(:func:`hub.services.policy.check_agreement`). Every change is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import AgendaItem
from hub.domain.lifecycle import APPROVED_ONCE
from hub.domain.roles import Caller, Role
from hub.errors import (
    ConflictError,
    HubError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from hub.persistence import policy as store
from hub.persistence import requests as request_store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.terms import in_force_dsa

QUESTION_MAX = 1000
DESCRIPTION_MAX = 5000
#: The most approved projects the public agenda scans (far past any hub's list).
PROJECTS_MAX = 100_000


def _require_governance(caller: Caller) -> None:
    principal = caller.principal
    if principal is None or principal.role != Role.GOVERNANCE:
        raise PermissionDeniedError("only governance members manage the research agenda")


def item_view(item: AgendaItem) -> dict[str, Any]:
    """The API's view of one agenda item."""
    return {"id": item.id, "question": item.question, "description": item.description,
            "status": item.status, "created_at": item.created_at.isoformat(),
            "retired_at": item.retired_at.isoformat() if item.retired_at else None}


def add_item(session: Session, ctx: HubContext, caller: Caller, *, question: str,
             description: str = "") -> AgendaItem:
    """A new priority question (governance members only)."""
    fields = {"object_type": "agenda_item"}
    question, description = question.strip(), description.strip()
    try:
        _require_governance(caller)
        if not question or len(question) > QUESTION_MAX:
            raise InvalidInputError(f"a question has 1 to {QUESTION_MAX} characters")
        if len(description) > DESCRIPTION_MAX:
            raise InvalidInputError(f"a description has at most {DESCRIPTION_MAX} characters")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="agenda.add_refused", **fields)
    item = store.add_agenda_item(session, question=question, description=description,
                                 created_by=caller.actor, created_at=ctx.now())
    audit.record(session, ctx, caller, action="agenda.added", object_type="agenda_item",
                 object_id=str(item.id), detail={"question": question})
    session.commit()
    return item


def retire_item(session: Session, ctx: HubContext, caller: Caller, *, item_id: int,
                reason: str = "") -> AgendaItem:
    """Retire an item: no new agreement may name it; approved projects keep the link."""
    fields = {"object_type": "agenda_item", "object_id": str(item_id)}
    try:
        _require_governance(caller)
        item = store.get_agenda_item(session, item_id=item_id, lock=True)
        if item is None:
            raise NotFoundError(f"agenda item {item_id} does not exist")
        if item.status == "retired":
            raise ConflictError(f"agenda item {item_id} is already retired",
                                code="already_retired")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="agenda.retire_refused", **fields)
    item.status = "retired"
    item.retired_at = ctx.now()
    audit.record(session, ctx, caller, action="agenda.retired", **fields,
                 detail={"reason": reason.strip()})
    session.commit()
    return item


def list_items(session: Session, *, include_retired: bool = True) -> list[AgendaItem]:
    """The agenda, oldest first (everyone signed in may read it)."""
    return store.agenda_items(session, status=None if include_retired else "active")


def agenda_questions(session: Session) -> dict[int, str]:
    """id → question of every agenda item (the public list names the questions a project
    answers)."""
    return {item.id: item.question for item in store.agenda_items(session)}


def public_agenda(session: Session, ctx: HubContext) -> dict[str, Any]:
    """Every agenda item with the approved (once) projects linked to it: id and title only,
    as the public list shows them."""
    linked: dict[int, list[dict[str, str]]] = {}
    for request in request_store.public_requests(session, statuses=list(APPROVED_ONCE),
                                                 limit=PROJECTS_MAX):
        dsa = in_force_dsa(request)  # never an amendment under review
        for item_id in dsa.agenda_items:
            linked.setdefault(item_id, []).append({"id": request.id, "title": dsa.title})
    return {
        "hub": ctx.settings.hub_name,
        "items": [{**item_view(item), "projects": linked.get(item.id, [])}
                  for item in store.agenda_items(session)],
    }
