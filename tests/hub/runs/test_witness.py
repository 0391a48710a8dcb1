"""The hub's transparency log witnessed by real node apps (in process, over HTTP via ASGI):
co-signatures kept on both sides, and each tamper of issue 13 attack 4 refused or detected."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from agency_node.errors import AuditChainError as NodeChainError
from agency_node.keys import load_signing_key
from agency_node.store.models import AuditEvent as NodeEvent
from agency_node.store.models import LogCheckpoint, WitnessedCheckpoint
from hub.db.models import AuditEvent, AuditHead, TlogCheckpoint, TlogCosignature
from hub.domain.audit_chain import event_hash
from hub.node_client import make_node_http_client
from hub.services import tlog, witnessing
from protocol.signing import sign
from protocol.tlog import leaf_hash, root, verify_consistency, verify_inclusion
from protocol.witness import WitnessRequest, decode_hashes
from tests.hub.runs.conftest import NODES, Federation


def _push(federation: Federation) -> dict[str, str]:
    client = make_node_http_client(federation.hub.ctx.settings, transport=federation.router)
    try:
        return witnessing.push(federation.hub.ctx, client=client)
    finally:
        client.close()


def _grow(federation: Federation, n: int = 3) -> None:
    auditor = federation.hub.token("auditor")
    for _ in range(n):
        federation.hub.client.get("/v1/audit/events", headers=federation.hub.auth(auditor))


def _auditor(federation: Federation) -> dict[str, str]:
    return dict(federation.hub.auth(federation.hub.token("auditor")))


def _rechain(session: Any, events: list[AuditEvent]) -> None:
    """What an attacker with the database does: renumber, re-hash, reset the head."""
    prev = "0" * 64
    for seq, event in enumerate(events, start=1):
        content = {k: getattr(event, k) for k in ("ts", "actor", "role", "action",
                                                   "object_type", "object_id", "project",
                                                   "agency", "outcome", "source", "detail")}
        digest = event_hash(content, seq=seq, prev_hash=prev)
        session.add(AuditEvent(**content, seq=seq, prev_hash=prev, hash=digest))
        prev = digest
    session.execute(update(AuditHead).values(seq=len(events), hash=prev))


def test_witnesses_cosign_and_keep_checkpoints(federation: Federation) -> None:
    assert _push(federation) == {"K12": "cosigned", "HE": "cosigned"}
    _grow(federation)
    assert _push(federation) == {"K12": "cosigned", "HE": "cosigned"}
    with federation.hub.ctx.session_factory() as session:
        sizes = [c.size for c in session.scalars(select(TlogCheckpoint))]
        cosigned = {(c.agency, c.size) for c in session.scalars(select(TlogCosignature))}
    assert len(sizes) == 2 and cosigned == {(a, s) for a in NODES for s in sizes}
    for agency in NODES:
        with federation.runtime(agency) as runtime, runtime.sessions() as session:
            held = [w.size for w in session.scalars(select(WitnessedCheckpoint))]
            assert held == sorted(sizes)
            assert session.scalars(select(LogCheckpoint)).first() is not None
    listing = federation.hub.client.get("/v1/audit/tlog/checkpoints",
                                        headers=_auditor(federation)).json()
    assert {c["agency"] for c in listing["checkpoints"][-1]["cosignatures"]} == set(NODES)


def test_proofs_from_the_api_verify(federation: Federation) -> None:
    _grow(federation, 5)
    _push(federation)
    headers = _auditor(federation)
    latest = federation.hub.client.get("/v1/audit/tlog/checkpoint", headers=headers).json()
    size, root_hash = latest["size"], bytes.fromhex(latest["root_hash"])
    proof = federation.hub.client.get("/v1/audit/tlog/proof/inclusion",
                                      params={"seq": 2, "size": size}, headers=headers).json()
    verify_inclusion(base64.b64decode(proof["leaf_hash"]), 1, size,
                     decode_hashes(proof["hashes"]), root_hash)
    with federation.hub.ctx.session_factory() as session:
        old_root = root(tlog.leaves(session, size=3))
    proof = federation.hub.client.get("/v1/audit/tlog/proof/consistency",
                                      params={"old_size": 3, "new_size": size},
                                      headers=headers).json()
    verify_consistency(3, size, old_root, root_hash, decode_hashes(proof["hashes"]))
    refused = federation.hub.client.get("/v1/audit/tlog/proof/inclusion",
                                        params={"seq": size + 10_000, "size": size + 10_000},
                                        headers=headers)
    assert refused.status_code == 422


def test_tlog_reads_need_an_auditor(federation: Federation) -> None:
    researcher = federation.hub.auth(federation.researcher)
    response = federation.hub.client.get("/v1/audit/tlog/checkpoints", headers=researcher)
    assert response.status_code == 403


def test_deleted_events_and_reset_head_refused_as_rollback(federation: Federation) -> None:
    _grow(federation, 6)
    assert _push(federation)["K12"] == "cosigned"
    with federation.hub.ctx.session_factory() as session:
        total = session.scalar(select(AuditHead.seq))
        assert total is not None and total > 8
        # Delete the newest events, reset the head, forget the checkpoints and co-signatures.
        session.execute(delete(AuditEvent).where(AuditEvent.seq > total - 5))
        last = session.get(AuditEvent, total - 5)
        assert last is not None
        session.execute(update(AuditHead).values(seq=total - 5, hash=last.hash))
        session.execute(delete(TlogCosignature))
        session.execute(delete(TlogCheckpoint))
        session.commit()
    outcomes = _push(federation)
    # The hub forgot what the node co-signed: its first offer names the wrong old size, the
    # node says which size it holds, and the retry is refused as a rollback.
    assert outcomes == {"K12": "rollback", "HE": "rollback"}
    with federation.runtime("K12") as runtime, runtime.sessions() as session:
        refusals = list(session.scalars(select(NodeEvent).where(
            NodeEvent.typ == "tlog_witness", NodeEvent.outcome == "refused")))
    assert "rollback" in {e.reason for e in refusals}


def test_rewritten_and_resigned_history_refused_as_inconsistent(federation: Federation) -> None:
    _grow(federation, 4)
    assert _push(federation)["HE"] == "cosigned"
    with federation.hub.ctx.session_factory() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        kept = [e for e in events if e.seq not in (2, 3)]  # remove two events in the middle
        for e in events:
            session.expunge(e)
        session.execute(delete(AuditEvent))
        _rechain(session, kept)
        session.commit()
    _grow(federation, 4)  # the log grows past the co-signed size again, re-signed by the hub
    assert _push(federation) == {"K12": "inconsistent", "HE": "inconsistent"}


def _envelope(federation: Federation, agency: str, **body: Any) -> bytes:
    request = WitnessRequest(agency=agency, **body)
    return sign(request, typ=WitnessRequest.TYP, private_key=federation.hub.ctx.keys.signing,
                now=federation.hub.ctx.now_ts()).to_json()


def _post(federation: Federation, agency: str, content: bytes) -> Any:
    url = NODES[agency][1] + "/v1/witness/checkpoints"
    with make_node_http_client(federation.hub.ctx.settings,
                               transport=federation.router) as client:
        return client.post(url, content=content, headers={"Content-Type": "application/json"})


def test_forged_consistency_proof_refused(federation: Federation) -> None:
    _push(federation)
    _grow(federation, 4)
    with federation.hub.ctx.session_factory() as session:
        checkpoint = tlog.sign_current(session, federation.hub.ctx)
        note, size = checkpoint.note, checkpoint.size
        session.commit()
        old = session.scalar(select(TlogCosignature.size).where(TlogCosignature.agency == "K12"))
    bogus = [base64.b64encode(leaf_hash(b"forged")).decode()] * 3
    response = _post(federation, "K12", _envelope(federation, "K12", checkpoint=note,
                                                  old_size=old, consistency=bogus))
    assert response.status_code == 409 and response.json()["error"] == "inconsistent"
    assert size > (old or 0)


def test_checkpoint_not_signed_by_the_hub_refused(federation: Federation) -> None:
    _push(federation)
    with federation.hub.ctx.session_factory() as session:
        note = session.scalars(select(TlogCheckpoint)).first().note  # type: ignore[union-attr]
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # the size line, signature kept
    forged = "\n".join(lines)
    response = _post(federation, "K12", _envelope(federation, "K12", checkpoint=forged,
                                                  old_size=0, consistency=[]))
    assert response.status_code == 403 and response.json()["error"] == "bad_note_signature"


def test_witness_request_signed_by_another_key_refused(federation: Federation) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    request = WitnessRequest(agency="K12", checkpoint="x\n1\n\n", old_size=0, consistency=[])
    envelope = sign(request, typ=WitnessRequest.TYP, private_key=Ed25519PrivateKey.generate())
    response = _post(federation, "K12", envelope.to_json())
    assert response.status_code in (401, 403) and response.json()["error"] == "unknown_key"


def test_witness_request_replayed_nonce_refused(federation: Federation) -> None:
    with federation.hub.ctx.session_factory() as session:
        checkpoint = tlog.sign_current(session, federation.hub.ctx)
        note = checkpoint.note
        session.commit()
    content = _envelope(federation, "K12", checkpoint=note, old_size=0, consistency=[])
    assert _post(federation, "K12", content).status_code == 200
    replayed = _post(federation, "K12", content)
    assert replayed.status_code == 409 and replayed.json()["error"] == "replayed_nonce"


def test_rewritten_node_log_detected_against_checkpoints_held_by_the_hub(
        federation: Federation) -> None:
    assert _push(federation)["K12"] == "cosigned"
    headers = _auditor(federation)
    held = federation.hub.client.get("/v1/audit/tlog/node-checkpoints",
                                     params={"agency": "K12"}, headers=headers).json()
    assert held and all(h["agency"] == "K12" for h in held)
    notes = [h["checkpoint"] for h in held]
    key = load_signing_key(federation.nodes["K12"]).public_key()
    with federation.runtime("K12") as runtime:
        assert runtime.audit.verify_checkpoints(notes, agency="K12", public_key=key).largest
        with runtime.sessions() as session:
            # Remove the enrollment event and re-hash the chain from there on, and drop
            # the node's own checkpoints: the chain alone verifies again.
            events = list(session.scalars(select(NodeEvent).order_by(NodeEvent.seq)))
            session.execute(delete(NodeEvent))
            session.execute(delete(LogCheckpoint))
            from agency_node.services.audit import event_hash as node_hash

            prev = "0" * 64
            for seq, event in enumerate(events[1:], start=1):
                content = {"seq": seq, "at": event.at, "actor": event.actor, "typ": event.typ,
                           "project_id": event.project_id, "outcome": event.outcome,
                           "reason": event.reason, "details": event.details}
                digest = node_hash(content, prev)
                session.add(NodeEvent(**content, prev_hash=prev, hash=digest))
                prev = digest
            session.commit()
        assert runtime.audit.verify().events == len(events) - 1
        with pytest.raises(NodeChainError, match=r"rewritten|deleted"):
            runtime.audit.verify_checkpoints(notes, agency="K12", public_key=key)


def test_fork_at_the_same_size_refused_as_inconsistent(federation: Federation) -> None:
    from protocol.tlog_note import Checkpoint, sign_checkpoint
    from protocol.witness import hub_log_origin

    assert _push(federation)["K12"] == "cosigned"
    with federation.hub.ctx.session_factory() as session:
        size = session.scalar(select(TlogCosignature.size).where(TlogCosignature.agency == "K12"))
    assert size
    origin = hub_log_origin(federation.hub.ctx.keys.signing_public)
    forked = sign_checkpoint(Checkpoint(origin, size, leaf_hash(b"another history")),
                             name=origin, key=federation.hub.ctx.keys.signing)
    response = _post(federation, "K12", _envelope(federation, "K12", checkpoint=forked,
                                                  old_size=size, consistency=[]))
    assert response.status_code == 409 and response.json()["error"] == "inconsistent"


def test_witness_request_for_another_agency_refused(federation: Federation) -> None:
    with federation.hub.ctx.session_factory() as session:
        note = tlog.sign_current(session, federation.hub.ctx).note
        session.commit()
    response = _post(federation, "K12", _envelope(federation, "HE", checkpoint=note,
                                                  old_size=0, consistency=[]))
    assert response.status_code == 403 and response.json()["error"] == "wrong_agency"


def test_witness_request_with_stale_old_size_refused(federation: Federation) -> None:
    assert _push(federation)["K12"] == "cosigned"
    _grow(federation)
    with federation.hub.ctx.session_factory() as session:
        note = tlog.sign_current(session, federation.hub.ctx).note
        session.commit()
    response = _post(federation, "K12", _envelope(federation, "K12", checkpoint=note,
                                                  old_size=0, consistency=[]))
    assert response.status_code == 409 and response.json()["error"] == "old_size_mismatch"
