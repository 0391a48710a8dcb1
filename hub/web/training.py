"""The training page (safe people, docs/web.md "Training"): everyone sees their own
training status against what the hub requires; governance staff, auditors and admins see
everyone's; governance staff record a completion here through
:func:`hub.services.training.record_training` — the same rule and audit event as
``POST /v1/users/{id}/training`` and ``fedlink user training record``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hub.api.deps import ContextDep, SessionDep
from hub.db.models import TrainingRecord
from hub.domain.roles import Role
from hub.errors import HubError, InvalidInputError, NotFoundError
from hub.persistence import identity as identity_store
from hub.services import training
from hub.services.context import HubContext
from hub.services.web_sessions import SignedIn
from hub.web.deps import CsrfChecked, GovernancePage, SignedInUser
from hub.web.pages import PageRoute, render

router = APIRouter(prefix="/training", route_class=PageRoute, include_in_schema=False)

_FIELDS = ("user_id", "training", "completed_on", "expires_on")


def standing(records: list[TrainingRecord], required: list[str],
             today: dt.date) -> list[dict[str, Any]]:
    """Each required training's state for one person: ``current`` (until when),
    ``lapsed`` (expired on) or ``missing`` — the rule of
    :func:`hub.services.training.require_current_training`, for display."""
    out = []
    for name in required:
        mine = [r for r in records if r.training == name]
        current = [r.expires_on for r in mine if r.completed_on <= today <= r.expires_on]
        if current:
            out.append({"training": name, "state": "current", "until": max(current)})
        elif mine:
            out.append({"training": name, "state": "lapsed",
                        "until": max(r.expires_on for r in mine)})
        else:
            out.append({"training": name, "state": "missing", "until": None})
    return out


def training_page(session: Session, ctx: HubContext, me: SignedIn) -> dict[str, Any]:
    """Own records and standing; for :data:`hub.services.training.READERS` also everyone's."""
    assert me.caller.principal is not None and me.caller.principal.id is not None
    today = ctx.now().date()
    required = list(ctx.settings.required_training)
    mine = training.list_training(session, ctx, me.caller, user_id=me.caller.principal.id)
    people = []
    if me.role in training.READERS:
        for user in identity_store.list_users(session):
            records = training.list_training(session, ctx, me.caller, user_id=user.id)
            people.append({"user": user, "standing": standing(records, required, today),
                           "records": records})
    return {"required": required, "enforced": ctx.settings.require_training,
            "today": today, "mine": mine, "my_standing": standing(mine, required, today),
            "people": people, "can_record": me.role == Role.GOVERNANCE}


def _render(request: Request, session: Session, ctx: HubContext, me: SignedIn, *,
            status: int = 200, errors: dict[str, str] | None = None,
            form: dict[str, str] | None = None, done: str = "") -> HTMLResponse:
    return render(request, "training.html", status=status, errors=errors or {},
                  form=form or dict.fromkeys(_FIELDS, ""), done=done,
                  **training_page(session, ctx, me))


@router.get("")
def training_screen(request: Request, me: SignedInUser, session: SessionDep,
                    ctx: ContextDep, done: str = "") -> HTMLResponse:
    return _render(request, session, ctx, me, done=done[:100])


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


@router.post("")
def record(
    request: Request, me: GovernancePage, _csrf: CsrfChecked, session: SessionDep,
    ctx: ContextDep,
    user_id: Annotated[str, Form(max_length=12)] = "",
    training_name: Annotated[str, Form(alias="training", max_length=200)] = "",
    completed_on: Annotated[str, Form(max_length=32)] = "",
    expires_on: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    form = {"user_id": user_id, "training": training_name, "completed_on": completed_on,
            "expires_on": expires_on}
    errors: dict[str, str] = {}
    if not user_id.isdigit():
        errors["user_id"] = "Choose the person."
    if not training_name.strip():
        errors["training"] = "Enter the training's name."
    completed, expires = _date(completed_on), _date(expires_on)
    if completed is None:
        errors["completed_on"] = "Enter the completion date as YYYY-MM-DD."
    if expires is None:
        errors["expires_on"] = "Enter the expiry date as YYYY-MM-DD."
    if not errors:
        assert completed is not None and expires is not None
        try:
            training.record_training(session, ctx, me.caller, user_id=int(user_id),
                                     training=training_name, completed_on=completed,
                                     expires_on=expires)
        except (InvalidInputError, NotFoundError) as exc:
            errors["form"] = f"{str(exc)[0].upper()}{str(exc)[1:]}."
        except HubError as exc:  # own_training and other refusals: the page, its status
            return _render(request, session, ctx, me, status=exc.status, form=form,
                           errors={"form": f"{str(exc)[0].upper()}{str(exc)[1:]}."})
    if errors:
        return _render(request, session, ctx, me, status=422, errors=errors, form=form)
    return RedirectResponse(f"/training?done={quote(training_name.strip())}", status_code=303)
