"""The audit log as a transparency log: checkpoints with witness co-signatures, proofs,
leaves and the node-log checkpoints the hub holds (docs/hub.md, "Transparency log").

Reads are for auditors and are not themselves audited (each read would grow the log it
describes); ``POST /checkpoints`` signs a checkpoint now and pushes it to the witnesses.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hub.api.deps import AuditAdminCaller, AuditorCaller, ContextDep, SessionDep
from hub.services import audit, tlog, witnessing

router = APIRouter(prefix="/v1/audit/tlog", tags=["audit"])


@router.get("/checkpoint", summary="The latest signed checkpoint and its co-signatures [auditor]")
def latest(caller: AuditorCaller, session: SessionDep) -> dict[str, Any]:
    return tlog.latest_view(session)


@router.get("/checkpoints", summary="Every signed checkpoint and its co-signatures [auditor]")
def checkpoints(caller: AuditorCaller, session: SessionDep) -> dict[str, Any]:
    return tlog.checkpoints_view(session)


@router.post("/checkpoints", summary="Sign a checkpoint now and push it to every witness "
             "[auditor, admin]")
def checkpoint_now(caller: AuditAdminCaller, session: SessionDep,
                   ctx: ContextDep) -> dict[str, Any]:
    audit.record(session, ctx, caller, action="tlog.checkpoint", object_type="tlog")
    session.commit()
    outcomes = witnessing.push(ctx)
    return {"witnesses": outcomes, "checkpoint": tlog.latest_view(session)}


@router.get("/proof/inclusion", summary="Inclusion proof of event seq [auditor]")
def inclusion(caller: AuditorCaller, session: SessionDep, seq: Annotated[int, Query(ge=1)],
              size: Annotated[int, Query(ge=1)]) -> dict[str, Any]:
    return tlog.inclusion(session, seq=seq, size=size)


@router.get("/proof/consistency", summary="Consistency proof between two sizes [auditor]")
def consistency(caller: AuditorCaller, session: SessionDep,
                old_size: Annotated[int, Query(ge=0)],
                new_size: Annotated[int, Query(ge=0)]) -> dict[str, Any]:
    return tlog.consistency(session, old_size=old_size, new_size=new_size)


@router.get("/leaves", summary="Leaf data (event chain hashes) start..end-1 [auditor]")
def leaves(caller: AuditorCaller, session: SessionDep, start: Annotated[int, Query(ge=0)],
           end: Annotated[int, Query(ge=0)]) -> dict[str, Any]:
    return tlog.leaves_page(session, start=start, end=end)


@router.get("/node-checkpoints", summary="Node-log checkpoints the nodes signed [auditor]")
def node_checkpoints(caller: AuditorCaller, session: SessionDep,
                     agency: str | None = None) -> list[dict[str, Any]]:
    return tlog.node_checkpoints_view(session, agency=agency)
