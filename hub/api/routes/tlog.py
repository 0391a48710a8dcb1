"""The audit log as a transparency log: checkpoints with witness co-signatures, proofs,
leaves and the node-log checkpoints the hub holds (docs/hub.md, "Transparency log").

Reads are for auditors and are not themselves audited (each read would grow the log it
describes); ``POST /checkpoints`` signs a checkpoint now and pushes it to the witnesses.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hub.api.deps import AuditAdminCaller, AuditorCaller, ContextDep, SessionDep
from hub.api.responses import USER, USER_OBJECT
from hub.api.schemas import DB_INT_MAX
from hub.api.schemas_audit import (
    ConsistencyProof,
    InclusionProof,
    Leaves,
    NodeCheckpoint,
    TlogCheckpoint,
    TlogCheckpoints,
    WitnessPush,
)
from hub.api.schemas_views import returns
from hub.services import audit, tlog, witnessing

router = APIRouter(prefix="/v1/audit/tlog", tags=["audit"])
#: Sequence numbers and tree sizes, bounded so an absurd value is a 422, not an overflow.
FromOne = Annotated[int, Query(ge=1, le=DB_INT_MAX)]
FromZero = Annotated[int, Query(ge=0, le=DB_INT_MAX)]


@router.get("/checkpoint", responses=USER_OBJECT, **returns(TlogCheckpoint),
            summary="The latest signed checkpoint and its co-signatures [auditor]")
def latest(caller: AuditorCaller, session: SessionDep) -> dict[str, Any]:
    """The newest signed checkpoint of the audit log and the witnesses' co-signatures."""
    return tlog.latest_view(session)


@router.get("/checkpoints", responses=USER, **returns(TlogCheckpoints),
            summary="Every signed checkpoint and its co-signatures [auditor]")
def checkpoints(caller: AuditorCaller, session: SessionDep) -> dict[str, Any]:
    """Every signed checkpoint with its co-signatures."""
    return tlog.checkpoints_view(session)


@router.post("/checkpoints", responses=USER, **returns(WitnessPush),
             summary="Sign a checkpoint now and push it to every witness "
             "[auditor, admin]")
def checkpoint_now(caller: AuditAdminCaller, session: SessionDep,
                   ctx: ContextDep) -> dict[str, Any]:
    """Sign a checkpoint at the current head now and push it to every witness; the witnesses'
    answers."""
    audit.record(session, ctx, caller, action="tlog.checkpoint", object_type="tlog")
    session.commit()
    outcomes = witnessing.push(ctx)
    return {"witnesses": outcomes, "checkpoint": tlog.latest_view(session)}


@router.get("/proof/inclusion", responses=USER_OBJECT, **returns(InclusionProof),
            summary="Inclusion proof of event seq [auditor]")
def inclusion(caller: AuditorCaller, session: SessionDep, seq: FromOne,
              size: FromOne) -> dict[str, Any]:
    """Proof that event `seq` is in the log of size `size` (RFC 6962 style)."""
    return tlog.inclusion(session, seq=seq, size=size)


@router.get("/proof/consistency", responses=USER_OBJECT, **returns(ConsistencyProof),
            summary="Consistency proof between two sizes [auditor]")
def consistency(caller: AuditorCaller, session: SessionDep,
                old_size: FromZero,
                new_size: FromZero) -> dict[str, Any]:
    """Proof that the log of `old_size` is a prefix of the log of `new_size`."""
    return tlog.consistency(session, old_size=old_size, new_size=new_size)


@router.get("/leaves", responses=USER_OBJECT, **returns(Leaves),
            summary="Leaf data (event chain hashes) start..end-1 [auditor]")
def leaves(caller: AuditorCaller, session: SessionDep, start: FromZero,
           end: FromZero) -> dict[str, Any]:
    """The leaves (event chain hashes) from `start` to `end - 1`."""
    return tlog.leaves_page(session, start=start, end=end)


@router.get("/node-checkpoints", responses=USER, **returns(list[NodeCheckpoint]),
            summary="Node-log checkpoints the nodes signed [auditor]")
def node_checkpoints(caller: AuditorCaller, session: SessionDep,
                     agency: str | None = None) -> list[dict[str, Any]]:
    """The node-log checkpoints the agency nodes signed, optionally of one agency."""
    return tlog.node_checkpoints_view(session, agency=agency)
