"""The hub's audit log as an RFC 9162 Merkle tree: checkpoints, proofs, leaves.

Decision: the per-event hash chain stays (:mod:`hub.domain.audit_chain`: it is cheap, and
it lets a verifier name the first altered event), and its hashes are the tree's leaf data:
leaf ``seq - 1`` is ``leaf_hash(bytes.fromhex(event.hash))``, so the tree commits to every
event's content through its chain hash. The hub signs C2SP checkpoints of the tree with
its signing key under :func:`protocol.witness.hub_log_origin`; the agency nodes co-sign
them as witnesses (:mod:`hub.services.witnessing`). Proofs are computed from the leaves on
demand (one indexed column read; fine for the audit log's size, see docs/hub.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import TlogCheckpoint
from hub.errors import InvalidInputError, NotFoundError
from hub.persistence import tlog as store
from hub.services.audit import format_ts
from hub.services.context import HubContext
from protocol.tlog import consistency_proof, inclusion_proof, leaf_hash, root
from protocol.tlog_note import Checkpoint, sign_checkpoint
from protocol.witness import encode_hashes, hub_log_origin

#: At most this many leaves per page of ``GET /v1/audit/tlog/leaves``.
MAX_LEAVES_PAGE = 1000


def origin(ctx: HubContext) -> str:
    return hub_log_origin(ctx.keys.signing_public)


def leaves(session: Session, *, size: int | None = None) -> list[bytes]:
    """The leaf hashes of the first ``size`` events (all by default)."""
    return [leaf_hash(bytes.fromhex(h)) for h in store.event_hashes(session, end=size)]


def sign_current(session: Session, ctx: HubContext) -> TlogCheckpoint:
    """A signed checkpoint of the log as it is now (the latest one if nothing was added).
    Not committed: the caller commits."""
    tree = leaves(session)
    latest = store.latest_checkpoint(session)
    if latest is not None and latest.size == len(tree):
        return latest
    name = origin(ctx)
    head = Checkpoint(origin=name, size=len(tree), root_hash=root(tree))
    note = sign_checkpoint(head, name=name, key=ctx.keys.signing)
    return store.add_checkpoint(session, size=head.size, root_hash=head.root_hash.hex(),
                                note=note, signed_at=format_ts(ctx.now()))


def checkpoints_view(session: Session) -> dict[str, Any]:
    """Every signed checkpoint with the witness co-signatures the hub holds for it."""
    by_size: dict[int, list[dict[str, Any]]] = {}
    for c in store.list_cosignatures(session):
        by_size.setdefault(c.size, []).append({
            "agency": c.agency, "witness": c.witness, "signature": c.signature,
            "cosigned_at": c.cosigned_at})
    return {
        "checkpoints": [
            {"size": c.size, "root_hash": c.root_hash, "checkpoint": c.note,
             "signed_at": c.signed_at, "cosignatures": by_size.get(c.size, [])}
            for c in store.list_checkpoints(session)
        ],
        "tree_size": store.event_count(session),
    }


def latest_view(session: Session) -> dict[str, Any]:
    latest = store.latest_checkpoint(session)
    if latest is None:
        raise NotFoundError("the hub has signed no transparency-log checkpoint yet")
    views: list[dict[str, Any]] = checkpoints_view(session)["checkpoints"]
    return next(c for c in views if c["size"] == latest.size)


def _tree(session: Session, size: int) -> list[bytes]:
    tree = leaves(session, size=size)
    if len(tree) < size:
        raise InvalidInputError(f"the log has {len(tree)} events, fewer than {size}")
    return tree


def inclusion(session: Session, *, seq: int, size: int) -> dict[str, Any]:
    """The inclusion proof of event ``seq`` (leaf ``seq - 1``) in the tree of ``size``."""
    if not 1 <= seq <= size:
        raise InvalidInputError(f"event {seq} is not in a tree of size {size}")
    tree = _tree(session, size)
    return {"seq": seq, "leaf_index": seq - 1, "tree_size": size,
            "leaf_hash": encode_hashes([tree[seq - 1]])[0],
            "root_hash": root(tree).hex(),
            "hashes": encode_hashes(inclusion_proof(tree, seq - 1, size))}


def consistency(session: Session, *, old_size: int, new_size: int) -> dict[str, Any]:
    """The consistency proof from the tree of ``old_size`` to the one of ``new_size``."""
    if not 0 <= old_size <= new_size:
        raise InvalidInputError("old_size must be between 0 and new_size")
    tree = _tree(session, new_size)
    return {"old_size": old_size, "new_size": new_size,
            "hashes": encode_hashes(consistency_proof(tree, old_size, new_size))}


def leaves_page(session: Session, *, start: int, end: int) -> dict[str, Any]:
    """Leaf data (the events' chain hashes) ``start .. end - 1``, at most a page."""
    if not 0 <= start <= end or end - start > MAX_LEAVES_PAGE:
        raise InvalidInputError(f"give 0 <= start <= end and at most {MAX_LEAVES_PAGE} leaves")
    return {"start": start, "event_hashes": store.event_hashes(session, start=start, end=end)}


def node_checkpoints_view(session: Session, *, agency: str | None) -> list[dict[str, Any]]:
    return [{"agency": c.agency, "size": c.size, "root_hash": c.root_hash, "checkpoint": c.note,
             "received_at": c.received_at}
            for c in store.list_node_checkpoints(session, agency=agency)]
