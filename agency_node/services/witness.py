"""The node as a witness of the hub's audit log (docs/hub.md, "Transparency log").

:func:`witness` takes a hub-signed ``tlog_witness`` envelope carrying a new checkpoint of
the hub log and a consistency proof from the last checkpoint this node co-signed, and in
this order: body size (413) → envelope signature, expiry, type, signer (only the hub key
pinned at enrollment) and nonce → body shape → this agency → the checkpoint's own
signature by that hub key under the origin derived from it (403 ``bad_note_signature`` /
``wrong_origin``) → smaller than what this node already co-signed (409 ``rollback``) →
``old_size`` is not the size this node co-signed last (409 ``old_size_mismatch``; the hub
re-reads ``GET /v1/witness/checkpoints`` and retries) → the proof does not show the new
tree extends the old one, or the same size has another root (409 ``inconsistent``: a fork
or a rewritten history). Only then does it co-sign (cosignature/v1 with the node key),
keep the co-signed checkpoint, append a ``tlog_witness`` event to its own audit log, and
sign a checkpoint of that log, which it returns with the co-signature.

Every refusal is appended to the node's audit log, so a hub that tried to roll back or
fork its log is on record at the node even if the hub hides the attempt.
"""

from __future__ import annotations

import threading
from typing import Any

from agency_node import keys
from agency_node.errors import NodeError, PayloadTooLargeError, RefusedError
from agency_node.services.context import NodeServices
from agency_node.services.gate import ReceivedBody
from agency_node.store import witness as store
from agency_node.store.nonces import DatabaseReplayGuard
from protocol.errors import ProtocolError
from protocol.keyfiles import key_id
from protocol.signing import Verifier
from protocol.tlog import ProofError, empty_root, verify_consistency
from protocol.tlog_note import NoteError, cosign, open_checkpoint
from protocol.wire import body_as
from protocol.witness import (
    WitnessRequest,
    WitnessResponse,
    decode_hashes,
    hub_log_origin,
    witness_name,
)

# One co-signature at a time: the check against the latest co-signed checkpoint and the
# write of the new one must not interleave (one node process serves the API).
_LOCK = threading.Lock()


def _verifier(services: NodeServices) -> tuple[Verifier, Any]:
    hub_key = keys.load_hub_signing_key(services.runtime.settings.dir)
    kid = key_id(hub_key)
    verifier = Verifier(keyring={kid: hub_key},
                        replay_guard=DatabaseReplayGuard(services.runtime.sessions),
                        clock=services.clock, signers={WitnessRequest.TYP: {kid}})
    return verifier, hub_key


def witness(services: NodeServices, body: ReceivedBody) -> WitnessResponse:
    """Verify, check consistency, co-sign and keep; or audit the refusal and raise it."""
    actor = "unverified"
    try:
        if body.too_large:
            raise PayloadTooLargeError(f"request body is larger than {body.limit} bytes")
        verifier, hub_key = _verifier(services)
        envelope = verifier.verify(body.data, expected_typ=WitnessRequest.TYP)
        actor = envelope.kid
        request = body_as(envelope, WitnessRequest)
        if request.agency != services.agency:
            raise RefusedError("wrong_agency",
                               f"this node serves agency {services.agency}, not {request.agency}")
        origin = hub_log_origin(hub_key)
        try:
            checkpoint, note = open_checkpoint(request.checkpoint, name=origin,
                                               public_key=hub_key, origin=origin)
        except NoteError as exc:
            raise RefusedError(exc.reason, f"hub checkpoint refused: {exc}") from None
        with _LOCK:
            cosignature = _check_and_cosign(services, request, checkpoint, note.body)
    except (NodeError, ProtocolError) as exc:
        code = exc.code if isinstance(exc, NodeError) else exc.reason
        services.runtime.audit.append(
            actor=actor, typ=WitnessRequest.TYP, outcome="refused", reason=code,
            details={"detail": str(exc)[:500]}, now=services.now(),
        )
        raise
    services.runtime.audit.append(
        actor=actor, typ=WitnessRequest.TYP, outcome="cosigned",
        details={"size": checkpoint.size, "root_hash": checkpoint.root_hash.hex()},
        now=services.now(),
    )
    node_checkpoint = services.runtime.audit.checkpoint(agency=services.agency,
                                                        key=services.signing_key)
    return WitnessResponse(cosignature=cosignature, node_checkpoint=node_checkpoint)


def _check_and_cosign(services: NodeServices, request: WitnessRequest, checkpoint: Any,
                      body: str) -> str:
    with services.runtime.sessions() as session:
        latest = store.latest_witnessed(session)
        old_size = latest.size if latest else 0
        old_root = bytes.fromhex(latest.root_hash) if latest else empty_root()
        if checkpoint.size < old_size:
            raise RefusedError(
                "rollback", f"this node already co-signed the hub log at size {old_size}; "
                f"a checkpoint of size {checkpoint.size} rolls it back", status=409)
        if request.old_size != old_size:
            raise RefusedError(
                "old_size_mismatch", f"the last checkpoint this node co-signed has size "
                f"{old_size}, not {request.old_size}", status=409)
        try:
            verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root_hash,
                               decode_hashes(request.consistency))
        except (ProofError, ValueError) as exc:
            raise RefusedError(
                "inconsistent", f"the hub log of size {checkpoint.size} does not extend the "
                f"one of size {old_size} this node co-signed: {exc}", status=409) from None
        line = cosign(body, name=witness_name(services.agency), key=services.signing_key,
                      timestamp=int(services.clock())).line().rstrip("\n")
        store.save_witnessed(session, size=checkpoint.size, root_hash=checkpoint.root_hash.hex(),
                             note=request.checkpoint, cosignature=line,
                             cosigned_at=int(services.clock()))
        session.commit()
    return line


def witnessed(services: NodeServices) -> dict[str, Any]:
    """Every hub checkpoint this node co-signed, and its own signed log checkpoints: public
    (sizes and hashes only), so an auditor can compare them with what the hub shows."""
    with services.runtime.sessions() as session:
        rows = store.list_witnessed(session)
        cosigned = [{"size": r.size, "root_hash": r.root_hash, "checkpoint": r.note,
                     "cosignature": r.cosignature, "cosigned_at": r.cosigned_at}
                    for r in rows]
    return {"agency": services.agency, "witness": witness_name(services.agency),
            "cosigned": cosigned, "log_checkpoints": services.runtime.audit.stored_checkpoints()}
