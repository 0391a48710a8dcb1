"""The audit log: search, export, checkpoints, and the hub's own verdict."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from hub.api.deps import AuditAdminCaller, AuditorCaller, ContextDep, SessionDep
from hub.api.responses import USER, ok_as
from hub.api.schemas import DB_INT_MAX
from hub.errors import AuditChainError
from hub.persistence import audit as store
from hub.services import audit, audit_log

router = APIRouter(prefix="/v1/audit", tags=["audit"])

_MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


def _filters(actor: str | None, project: str | None, agency: str | None, action: str | None,
             since: str | None, until: str | None) -> dict[str, Any]:
    return {"actor": actor, "project": project, "agency": agency, "action": action,
            "since": since, "until": until}


@router.get("/events", responses={**USER, **ok_as("application/x-ndjson", "text/csv")},
            summary="Search (JSON pages) or export (csv, jsonl) events [auditor]")
def events(
    caller: AuditorCaller,
    session: SessionDep,
    ctx: ContextDep,
    actor: str | None = None,
    project: str | None = None,
    agency: str | None = None,
    action: str | None = None,
    since: Annotated[str | None, Query(description="ISO time, inclusive")] = None,
    until: Annotated[str | None, Query(description="ISO time, exclusive")] = None,
    after_seq: Annotated[int, Query(ge=0, le=DB_INT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Literal["json", "jsonl", "csv"] = "json",
) -> Any:
    filters = _filters(actor, project, agency, action, since, until)
    if format == "json":
        return audit_log.search(session, ctx, caller, filters=filters, after_seq=after_seq,
                                limit=limit)
    body = list(audit_log.export(session, ctx, caller, filters=filters, fmt=format))
    return StreamingResponse(
        iter(body), media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="hub-audit.{format}"'},
    )


@router.get("/checkpoints", responses=USER,
            summary="Signed checkpoints and the chain head [auditor]")
def checkpoints(caller: AuditorCaller, session: SessionDep) -> dict[str, Any]:
    head = store.get_head(session)
    return {
        "head": {"seq": head.seq if head else 0, "hash": head.hash if head else ""},
        "checkpoints": audit_log.checkpoints(session),
    }


@router.post("/checkpoints", responses=USER, status_code=201,
             summary="Sign a checkpoint at the current head now [auditor, admin]")
def checkpoint_now(caller: AuditAdminCaller, session: SessionDep,
                   ctx: ContextDep) -> dict[str, Any]:
    return audit_log.checkpoint_view(audit.checkpoint_now(session, ctx, caller))


@router.get("/verify", responses=USER,
            summary="The hub's own check of its chain (for monitoring; auditors "
            "should verify client-side with `fedlink audit verify --hub`) [auditor]")
def verify(caller: AuditorCaller, session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    try:
        report = audit_log.verify_database(session, ctx)
    except AuditChainError as exc:
        return {"intact": False, "first_broken_event": exc.seq, "detail": str(exc)}
    return {"intact": True, "events": report.events, "checkpoints": report.checkpoints,
            "head_hash": report.head_hash}
