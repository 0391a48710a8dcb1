"""The review queue and request pages (governance, stewards; auditors read them too).

Governance members approve, deny or request changes here through
:func:`hub.services.reviews.review` — the same service, rule and audit events as
``POST /v1/requests/{id}/reviews``. A steward sees only what concerns their agency and
decides on their node (``fedlink node approve``), whose signed decision is the binding one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.api.deps import ContextDep, SessionDep
from hub.domain.approval import PUBLIC_REASON_MAX
from hub.errors import ConflictError, InvalidInputError, PermissionDeniedError
from hub.services import reviews
from hub.web.deps import CsrfChecked, GovernancePage, ReviewPage
from hub.web.pages import PageRoute, render
from hub.web.views import request_page, review_queue
from protocol.governance import CriterionAnswer

router = APIRouter(prefix="/review", route_class=PageRoute, include_in_schema=False)

RequestId = Annotated[str, Path(max_length=64)]
_CRITERIA_CODES = ("criteria_incomplete", "criterion_note_required", "unknown_criterion")
_DECISION_CHOICES = {"approve": "Approve", "deny": "Deny",
                     "request_changes": "Request changes"}


@router.get("")
def queue(request: Request, me: ReviewPage, session: SessionDep, ctx: ContextDep,
          show: Literal["pending", "all"] = "pending") -> HTMLResponse:
    rows = review_queue(session, ctx, me, pending_only=show == "pending")
    return render(request, "review_queue.html", rows=rows, show=show)


def _request_page(request: Request, me: ReviewPage, session: SessionDep, ctx: ContextDep,
                  request_id: str, *, status: int = 200, errors: dict[str, str] | None = None,
                  form: dict[str, Any] | None = None, done: bool = False) -> HTMLResponse:
    page = request_page(session, ctx, me, request_id=request_id)
    return render(request, "review_request.html", status=status, errors=errors or {},
                  form=form or {"decision": "", "reason": "", "public_reason": "", "met": [],
                                "notes": {}}, done=done,
                  choices=_DECISION_CHOICES, public_reason_max=PUBLIC_REASON_MAX,
                  criteria=ctx.settings.review_criteria, **page)


def _answers(ctx: ContextDep, met: list[str], note_for: list[str],
             notes: list[str]) -> tuple[list[CriterionAnswer], dict[str, str]]:
    """The checklist as the form answered it: a ticked criterion is met; an unticked one
    with a note was assessed as not met; an unticked one without a note was not answered.
    Only the hub's own criteria are read (a forged name is ignored, not a 500)."""
    noted = {cid: text.strip() for cid, text in zip(note_for, notes, strict=False)}
    answers = []
    for criterion in ctx.settings.review_criteria:
        note = noted.get(criterion.id, "")[:2000]
        if criterion.id in met:
            answers.append(CriterionAnswer(id=criterion.id, met=True, note=note))
        elif note:
            answers.append(CriterionAnswer(id=criterion.id, met=False, note=note))
    return answers, noted


@router.get("/{request_id}")
def show_request(request: Request, request_id: RequestId, me: ReviewPage,
                 session: SessionDep, ctx: ContextDep, done: bool = False) -> HTMLResponse:
    return _request_page(request, me, session, ctx, request_id, done=done)


@router.post("/{request_id}")
def decide(
    request: Request, request_id: RequestId, me: GovernancePage, _csrf: CsrfChecked,
    session: SessionDep, ctx: ContextDep,
    decision: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=10_000)] = "",
    public_reason: Annotated[str, Form(max_length=10_000)] = "",
    met: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006 (FastAPI copies it)
    note_for: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006
    note: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006
) -> Response:
    answers, notes = _answers(ctx, met, note_for, note)
    form = {"decision": decision, "reason": reason, "public_reason": public_reason,
            "met": met, "notes": notes}
    errors: dict[str, str] = {}
    if decision not in reviews.REVIEW_DECISIONS:
        errors["decision"] = "Choose approve, deny or request changes."
    else:
        try:
            reviews.review(session, ctx, me.caller, request_id=request_id,
                           decision=decision, reason=reason, public_reason=public_reason,
                           criteria=answers)
        except InvalidInputError as exc:
            # The service's rules: deny and request changes need a reason, a denial a
            # public reason, an approval every criterion met (each its own field, so the
            # form points at the right box).
            field = ("public_reason" if exc.code.startswith("public_reason")
                     else "criteria" if exc.code in _CRITERIA_CODES else "reason")
            errors[field] = f"{str(exc)[0].upper()}{str(exc)[1:]}."
        except (ConflictError, PermissionDeniedError) as exc:
            # e.g. irb_not_approved: the policy's refusal, shown on the page (not a 500).
            return _request_page(request, me, session, ctx, request_id, form=form,
                                 status=exc.status, errors={"form": str(exc)})
    if errors:
        return _request_page(request, me, session, ctx, request_id, status=422,
                             errors=errors, form=form)
    return RedirectResponse(f"/review/{quote(request_id)}?done=true", status_code=303)
