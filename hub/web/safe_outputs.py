"""The safe-table page of a project (docs/safe-outputs.md, docs/web.md): a researcher
pastes or uploads a CSV of counts, sees it protected — suppressed cells marked, the reason
for each, the rules applied — and submits the protected table to the airlock.

Both steps are the API's service (:mod:`hub.services.safe_outputs`): same people (the
project's personnel with current training), same rules, same audit events. Submitting
protects the posted table again on the hub and sends the result to
:func:`hub.services.airlock.submit_output`, so what reaches the stewards is what the policy
produced, never an edited copy. A refusal is shown on the page with its status.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.api.deps import ContextDep, SessionDep
from hub.errors import HubError, NotFoundError
from hub.services import safe_outputs
from hub.services.extract_policy import visible_project
from hub.services.terms import in_force_dsa
from hub.services.web_sessions import SignedIn
from hub.web.csv_form import MAX_CSV_BYTES, CsvFormError, posted_csv
from hub.web.deps import CsrfChecked, ResearcherPage
from hub.web.pages import PageRoute, render

router = APIRouter(prefix="/projects", route_class=PageRoute, include_in_schema=False)

Id = Annotated[str, Path(max_length=64)]


def _page(request: Request, me: SignedIn, session: SessionDep, project_id: str, *,
          status: int = 200, csv: str = "", safe: Any = None, error: str = "",
          form: dict[str, str] | None = None) -> HTMLResponse:
    project = visible_project(session, me.caller, project_id=project_id)
    return render(request, "safe_outputs.html", status=status, project=project,
                  dsa=in_force_dsa(project), csv=csv, safe=safe, error=error,
                  form=form or {"name": "", "description": ""})


def _sentence(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}." if text else text


@router.get("/{project_id}/safe-tables")
def show(request: Request, project_id: Id, me: ResearcherPage,
         session: SessionDep) -> HTMLResponse:
    return _page(request, me, session, project_id)


@router.post("/{project_id}/safe-tables")
async def protect(
    request: Request, project_id: Id, me: ResearcherPage, _csrf: CsrfChecked,
    session: SessionDep, ctx: ContextDep,
    csv: Annotated[str, Form(max_length=MAX_CSV_BYTES)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
    action: Annotated[str, Form(max_length=16)] = "protect",
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    form = {"name": name, "description": description}
    try:
        text = await posted_csv(csv, upload, what="a table of counts")
    except CsvFormError as exc:
        return _page(request, me, session, project_id, status=422, csv=csv, error=str(exc))
    try:
        if action == "submit":
            if not name.strip():
                safe = safe_outputs.protect_table(session, ctx, me.caller,
                                                  project_id=project_id, csv=text)
                return _page(request, me, session, project_id, status=422, csv=text,
                             safe=safe, form=form,
                             error="Give the table a name before submitting it.")
            output = safe_outputs.submit_protected(
                session, ctx, me.caller, project_id=project_id, csv=text, name=name.strip(),
                description=description.strip())
            return RedirectResponse(f"/outputs/{quote(output.id)}", status_code=303)
        safe = safe_outputs.protect_table(session, ctx, me.caller, project_id=project_id,
                                          csv=text)
    except HubError as exc:
        if isinstance(exc, NotFoundError):
            raise
        session.rollback()
        return _page(request, me, session, project_id, status=exc.status, csv=text,
                     error=_sentence(str(exc)), form=form)
    return _page(request, me, session, project_id, csv=text, safe=safe, form=form)
