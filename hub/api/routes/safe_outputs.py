"""Automatic safe outputs: a table of counts back protected per the project's policy
(docs/safe-outputs.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from hub.api.deps import ContextDep, ResearcherCaller, SessionDep
from hub.api.responses import errors
from hub.api.schemas_safe_outputs import SafeTableCreate, SafeTableView, safe_table_view
from hub.api.schemas_views import returns
from hub.services import safe_outputs

router = APIRouter(tags=["outputs"])

ProjectId = Annotated[str, Path(min_length=1, max_length=32)]


@router.post("/v1/projects/{project_id}/safe-tables", responses=errors(401, 403, 404, 409,
                                                                        422, 429),
             **returns(SafeTableView), summary="Protect a table of counts: suppression "
             "and rounding per the project's policy [researcher (personnel)]")
def protect(project_id: ProjectId, body: SafeTableCreate, caller: ResearcherCaller,
            session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Apply primary suppression (counts below the project's `min_cell`, zeros if its
    policy says so), complementary suppression (no suppressed cell recoverable from the
    totals) and rounding to a table of counts, and answer the protected table with the
    reason for each suppressed cell and the airlock's own checks on it. The hub keeps
    nothing of the table; submit the answer's `csv` to `POST /v1/outputs`. Only the
    project's personnel with current training (403 `training_required`), of a ready or
    ended project (409 `project_not_ready`). A table that is not one of counts is refused
    422: `bad_table` (not a whole non-negative count, empty or repeated label, unreadable),
    `ragged_table`, `already_suppressed`, `margins_mismatch`, `table_too_large`."""
    safe = safe_outputs.protect_table(
        session, ctx, caller, project_id=project_id, csv=body.csv,
        group_by=body.group_by.model_dump() if body.group_by is not None else None)
    return safe_table_view(safe)
