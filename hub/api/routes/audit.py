"""The audit log: search, export, checkpoints, and the hub's own verdict."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from hub.api.deps import AuditAdminCaller, AuditorCaller, ContextDep, SessionDep
from hub.api.responses import USER, ok_as
from hub.api.schemas import DB_INT_MAX
from hub.api.schemas_audit import (
    AuditCheckpoint,
    AuditCheckpoints,
    AuditEventPage,
    ChainVerdict,
)
from hub.api.schemas_views import returns
from hub.errors import AuditChainError
from hub.persistence import audit as store
from hub.services import audit, audit_log

router = APIRouter(prefix="/v1/audit", tags=["audit"])

def _filters(actor: str | None, project: str | None, agency: str | None, action: str | None,
             since: str | None, until: str | None) -> dict[str, Any]:
    return {"actor": actor, "project": project, "agency": agency, "action": action,
            "since": since, "until": until}


@router.get("/events", responses={**USER, **ok_as("application/x-ndjson", "text/csv")},
            **returns(AuditEventPage),
            summary="Search (JSON pages) or export (csv, jsonl) events [auditor]")
def events(
    caller: AuditorCaller,
    session: SessionDep,
    ctx: ContextDep,
    actor: str | None = None,
    project: str | None = None,
    agency: str | None = None,
    action: str | None = None,
    since: Annotated[str | None, Query(
        description="ISO date or time (UTC unless it has an offset), inclusive")] = None,
    until: Annotated[str | None, Query(
        description="ISO date or time (UTC unless it has an offset), exclusive: "
        "until=2026-12-07 ends with the last event of 2026-12-06")] = None,
    after_seq: Annotated[int, Query(ge=0, le=DB_INT_MAX, description=(
        "The next page: events after this seq (the previous page's next_after_seq)"))] = 0,
    before_seq: Annotated[int | None, Query(ge=1, le=DB_INT_MAX, description=(
        "The previous page: the last `limit` events before this seq (a page's "
        "prev_before_seq); not with after_seq"))] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Literal["json", "jsonl", "csv"] = "json",
) -> Any:
    """Search the hash-chained audit log by actor, project, agency, action and time, a page at
    a time (`format=json`: follow `next_after_seq`, or `prev_before_seq` back), or export
    every matching event as CSV or JSON lines (`format=csv|jsonl`). Searches are themselves
    audited. Auditors also get each `user:N` actor's current name and role (`actor_name`,
    `actor_role`; CSV columns of the same names), which the chain itself never holds."""
    filters = _filters(actor, project, agency, action, since, until)
    if format == "json":
        return audit_log.search(session, ctx, caller, filters=filters, after_seq=after_seq,
                                before_seq=before_seq, limit=limit)
    body = list(audit_log.export(session, ctx, caller, filters=filters, fmt=format))
    return StreamingResponse(
        iter(body), media_type=audit_log.EXPORT_MEDIA_TYPES[format],
        headers={"Content-Disposition":
                 f'attachment; filename="{audit_log.export_filename(format)}"'},
    )


@router.get("/checkpoints", responses=USER, **returns(AuditCheckpoints),
            summary="Signed checkpoints and the chain head [auditor]")
def checkpoints(caller: AuditorCaller, session: SessionDep) -> dict[str, Any]:
    """The hub's signed checkpoints of the audit chain, and the chain head."""
    head = store.get_head(session)
    return {
        "head": {"seq": head.seq if head else 0, "hash": head.hash if head else ""},
        "checkpoints": audit_log.checkpoints(session),
    }


@router.post("/checkpoints", responses=USER, status_code=201,
             **returns(AuditCheckpoint),
             summary="Sign a checkpoint at the current head now [auditor, admin]")
def checkpoint_now(caller: AuditAdminCaller, session: SessionDep,
                   ctx: ContextDep) -> dict[str, Any]:
    """Sign a checkpoint at the current head now."""
    return audit_log.checkpoint_view(audit.checkpoint_now(session, ctx, caller))


@router.get("/verify", responses=USER, **returns(ChainVerdict),
            summary="The hub's own check of its chain (for monitoring; auditors "
            "should verify client-side with `fedlink audit verify --hub`) [auditor]")
def verify(caller: AuditorCaller, session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """The hub's own check of its chain and checkpoints, for monitoring. Auditors should verify
    independently, client-side (`fedlink audit verify --hub`)."""
    try:
        report = audit_log.verify_database(session, ctx)
    except AuditChainError as exc:
        return {"intact": False, "first_broken_event": exc.seq, "detail": str(exc)}
    return {"intact": True, "events": report.events, "checkpoints": report.checkpoints,
            "head_hash": report.head_hash}
