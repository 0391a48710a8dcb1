"""Public-use files: a record-level file made safe on every column, measured on the data
(docs/public-use-files.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from hub.api.deps import ContextDep, ResearcherCaller, SessionDep
from hub.api.responses import errors
from hub.api.schemas_public_use import PublicUseCreate, PublicUseView, public_use_view
from hub.api.schemas_views import returns
from hub.services import public_use

router = APIRouter(tags=["outputs"])

ProjectId = Annotated[str, Path(min_length=1, max_length=32)]


@router.post("/v1/projects/{project_id}/public-use-files",
             responses=errors(401, 403, 404, 409, 422, 429), **returns(PublicUseView),
             summary="Make a record-level file safe for public use: every column measured, "
             "standard methods applied [researcher (personnel)]")
def protect(project_id: ProjectId, body: PublicUseCreate, caller: ResearcherCaller,
            session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Measure the disclosure risk of a record-level file on every column (sample uniques
    and special uniques over combinations of up to three columns, re-identification risk
    per record), apply global recoding, top- and bottom-coding, noise (when asked) and
    local suppression, and answer the released file with what was done, the risk before
    and after, and the airlock's own checks on it. The hub keeps nothing of the file;
    submit the answer's `csv` to `POST /v1/outputs` as kind `records`. Only the project's
    personnel with current training (403 `training_required`), of a ready or ended project
    (409 `project_not_ready`), when the agreement's `file_types` include `public_use` (403
    `public_use_not_authorised`). Refused 422 `public_use_unsafe` (with the findings) when
    it cannot be made safe, `bad_records_file` when it is not a CSV of records."""
    released = public_use.protect_file(session, ctx, caller, project_id=project_id,
                                       csv=body.csv, continuous=body.continuous)
    return public_use_view(released)
