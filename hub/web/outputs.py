"""The airlock's pages: output tables waiting for the stewards, each with its automatic
disclosure checks, the table itself and the release / return form (docs/web.md, "Outputs").

A steward releases or returns an output for their agency here through
:func:`hub.services.airlock.review_output` — the same service, rule and audit events as
``POST /v1/outputs/{id}/reviews`` and ``fedlink output release|return``. Researchers,
governance and auditors read the same pages (what :func:`hub.services.airlock.list_outputs`
lets them see); only stewards get the form.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hub.api.deps import ContextDep, SessionDep
from hub.db.models import OutputSubmission
from hub.domain.roles import Role
from hub.errors import ConflictError, InvalidInputError, PermissionDeniedError
from hub.persistence import requests as request_store
from hub.services import airlock
from hub.services.context import HubContext
from hub.services.terms import load_dsa
from hub.services.web_sessions import SignedIn
from hub.web.deps import CsrfChecked, ProjectPage, StewardPage
from hub.web.pages import PageRoute, render

router = APIRouter(prefix="/outputs", route_class=PageRoute, include_in_schema=False)

OutputId = Annotated[str, Path(max_length=64)]
#: Rows of the table shown on the page (the whole table is in the API and the CLI).
PREVIEW_ROWS = 50
_DECISIONS = {"release": "Release", "return": "Return to the researcher"}


def _agencies(session: Session, project_id: str) -> list[str]:
    request = request_store.get_request(session, request_id=project_id)
    return load_dsa(request).agencies if request is not None else []


def _row(session: Session, me: SignedIn, output: OutputSubmission) -> dict[str, Any]:
    """An output as the list and the page show it, with what is still needed."""
    reviews = airlock.reviews_of(session, output_id=output.id)
    reviewed = {r["agency"] for r in reviews}
    agencies = _agencies(session, output.project_id)
    waiting = ([a for a in agencies if a not in reviewed]
               if output.status == "pending_review" else [])
    return {"output": output, "reviews": reviews, "agencies": agencies, "waiting": waiting,
            "mine_waiting": me.role == Role.STEWARD and me.agency in waiting}


def outputs_list(session: Session, ctx: HubContext, me: SignedIn, *,
                 pending_only: bool) -> list[dict[str, Any]]:
    """The outputs ``me`` may see, newest first; ``pending_only``: those still waiting for
    the stewards (for a steward: for their own agency)."""
    rows = [_row(session, me, o) for o in airlock.list_outputs(session, ctx, me.caller)]
    if pending_only:
        rows = [r for r in rows if (r["mine_waiting"] if me.role == Role.STEWARD
                                    else r["waiting"])]
    return sorted(rows, key=lambda r: r["output"].created_at, reverse=True)


def _preview(content: str) -> dict[str, Any]:
    """The table's header and first :data:`PREVIEW_ROWS` rows (text, escaped on the page)."""
    rows = list(csv.reader(io.StringIO(content)))
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    return {"header": header, "rows": body[:PREVIEW_ROWS], "total": len(body)}


def output_page(session: Session, ctx: HubContext, me: SignedIn, *,
                output_id: str) -> dict[str, Any]:
    """Everything the output page shows to ``me`` (404 if ``me`` may not see it)."""
    output = airlock.get_output(session, ctx, me.caller, output_id=output_id)
    row = _row(session, me, output)
    request = request_store.get_request(session, request_id=output.project_id)
    return {**row, "title": load_dsa(request).title if request is not None else "",
            "preview": _preview(output.content), "checks": output.checks or {},
            "can_review": row["mine_waiting"]}


@router.get("")
def outputs(request: Request, me: ProjectPage, session: SessionDep, ctx: ContextDep,
            show: Literal["pending", "all"] = "pending") -> HTMLResponse:
    rows = outputs_list(session, ctx, me, pending_only=show == "pending")
    return render(request, "outputs.html", rows=rows, show=show)


def _output_page(request: Request, me: SignedIn, session: SessionDep, ctx: ContextDep,
                 output_id: str, *, status: int = 200, errors: dict[str, str] | None = None,
                 form: dict[str, str] | None = None, done: bool = False) -> HTMLResponse:
    page = output_page(session, ctx, me, output_id=output_id)
    return render(request, "output.html", status=status, errors=errors or {},
                  form=form or {"decision": "", "comments": ""}, done=done,
                  choices=_DECISIONS, **page)


@router.get("/{output_id}")
def show_output(request: Request, output_id: OutputId, me: ProjectPage, session: SessionDep,
                ctx: ContextDep, done: bool = False) -> HTMLResponse:
    return _output_page(request, me, session, ctx, output_id, done=done)


@router.post("/{output_id}")
def review(
    request: Request, output_id: OutputId, me: StewardPage, _csrf: CsrfChecked,
    session: SessionDep, ctx: ContextDep,
    decision: Annotated[str, Form(max_length=32)] = "",
    comments: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    form = {"decision": decision, "comments": comments}
    errors: dict[str, str] = {}
    if decision not in _DECISIONS:
        errors["decision"] = "Choose release or return."
    else:
        try:
            airlock.review_output(session, ctx, me.caller, output_id=output_id,
                                  decision=decision, comments=comments)
        except InvalidInputError as exc:
            errors["comments"] = f"{str(exc)[0].upper()}{str(exc)[1:]}."
        except (ConflictError, PermissionDeniedError) as exc:
            # Already reviewed, no longer pending, another agency's project: shown on the
            # page with the refusal's status (the service audited it).
            return _output_page(request, me, session, ctx, output_id, form=form,
                                status=exc.status, errors={"form": str(exc)})
    if errors:
        return _output_page(request, me, session, ctx, output_id, status=422,
                            errors=errors, form=form)
    return RedirectResponse(f"/outputs/{quote(output_id)}?done=true", status_code=303)
