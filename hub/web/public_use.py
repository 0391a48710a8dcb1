"""The public-use file page of a project (docs/public-use-files.md, docs/web.md): a
researcher pastes or uploads a record-level CSV, sees what was done to each column and the
risk before and after (measured on the data, every column), and submits the released file
to the airlock as ``records``.

Both steps are the API's services (:mod:`hub.services.public_use`,
:func:`hub.services.airlock.submit_output`): same people, same rules, same audit events.
The airlock measures the submitted file again from scratch, so an edited copy gains
nothing. A refusal is shown on the page with its status.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.api.deps import ContextDep, SessionDep
from hub.disclosure.public_use_methods import ContinuousMethod
from hub.errors import HubError, NotFoundError
from hub.services import airlock, public_use
from hub.services.extract_policy import visible_project
from hub.services.terms import in_force_dsa
from hub.services.web_sessions import SignedIn
from hub.web.csv_form import MAX_CSV_BYTES, CsvFormError, posted_csv
from hub.web.deps import CsrfChecked, ResearcherPage
from hub.web.pages import PageRoute, render

router = APIRouter(prefix="/projects", route_class=PageRoute, include_in_schema=False)

Id = Annotated[str, Path(max_length=64)]


def _page(request: Request, me: SignedIn, session: SessionDep, project_id: str, *,
          status: int = 200, csv: str = "", released: Any = None, error: str = "",
          continuous: str = "recode") -> HTMLResponse:
    project = visible_project(session, me.caller, project_id=project_id)
    return render(request, "public_use.html", status=status, project=project,
                  dsa=in_force_dsa(project), csv=csv, released=released, error=error,
                  continuous=continuous)


@router.get("/{project_id}/public-use-files")
def show(request: Request, project_id: Id, me: ResearcherPage,
         session: SessionDep) -> HTMLResponse:
    return _page(request, me, session, project_id)


@router.post("/{project_id}/public-use-files")
async def prepare(
    request: Request, project_id: Id, me: ResearcherPage, _csrf: CsrfChecked,
    session: SessionDep, ctx: ContextDep,
    csv: Annotated[str, Form(max_length=MAX_CSV_BYTES)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
    continuous: Annotated[str, Form(max_length=8)] = "recode",
    action: Annotated[str, Form(max_length=16)] = "prepare",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        text = await posted_csv(csv, upload, what="the records")
    except CsvFormError as exc:
        return _page(request, me, session, project_id, status=422, csv=csv, error=str(exc))
    mode: ContinuousMethod = "noise" if continuous == "noise" else "recode"
    try:
        if action == "submit":
            if not name.strip():
                return _page(request, me, session, project_id, status=422, csv=text,
                             error="Give the file a name before submitting it.")
            output = airlock.submit_output(session, ctx, me.caller, project_id=project_id,
                                           name=name.strip(), description="", kind="records",
                                           csv=text)
            return RedirectResponse(f"/outputs/{quote(output.id)}", status_code=303)
        released = public_use.protect_file(session, ctx, me.caller, project_id=project_id,
                                           csv=text, continuous=mode)
    except HubError as exc:
        if isinstance(exc, NotFoundError):
            raise
        session.rollback()
        return _page(request, me, session, project_id, status=exc.status, csv=text,
                     error=str(exc), continuous=mode)
    return _page(request, me, session, project_id, csv=text, released=released,
                 continuous=mode)
