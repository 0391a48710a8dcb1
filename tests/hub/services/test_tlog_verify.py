"""hub.services.tlog_verify on hand-built logs: an intact log verifies and reports its
witnesses; forged checkpoints, co-signatures and proofs, and logs shorter than or
different from what was signed, are each refused."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.errors import AuditChainError
from hub.services.tlog_verify import check_witness_view, leaves_of, verify_hub_tlog
from protocol.tlog import consistency_proof, root
from protocol.tlog_note import Checkpoint, SignedNote, cosign, sign_checkpoint
from protocol.witness import encode_hashes, hub_log_origin, witness_name

HUB = Ed25519PrivateKey.generate()
K12 = Ed25519PrivateKey.generate()
HASHES = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(20)]
LEAVES = leaves_of(HASHES)


def _checkpoint(size: int, *, key: Ed25519PrivateKey = HUB, leaves: list[bytes] = LEAVES,
                witness: Ed25519PrivateKey | None = K12) -> dict:
    origin = hub_log_origin(HUB.public_key())
    note = sign_checkpoint(Checkpoint(origin, size, root(leaves, size)), name=origin, key=key)
    cosignatures = []
    if witness is not None:
        body = SignedNote.parse(note).body
        line = cosign(body, name=witness_name("K12"), key=witness, timestamp=1000 + size)
        cosignatures.append({"agency": "K12", "signature": line.line().rstrip("\n")})
    return {"size": size, "checkpoint": note, "cosignatures": cosignatures}


def _proof(old: int, new: int) -> list[str]:
    return encode_hashes(consistency_proof(LEAVES, old, new))


def _verify(checkpoints: list[dict], leaves: list[bytes] = LEAVES, **kwargs) -> object:
    return verify_hub_tlog(leaves, checkpoints, hub_key=HUB.public_key(),
                           witness_keys={"K12": K12.public_key()},
                           consistency=kwargs.pop("consistency", _proof), **kwargs)


def test_intact_log_reports_what_each_witness_cosigned() -> None:
    report = _verify([_checkpoint(5), _checkpoint(12), _checkpoint(20)])
    assert report.witnessed == {"K12": [5, 12, 20]} and report.largest == 20


@pytest.mark.parametrize("case", ["deleted", "rewritten", "wrong hub key", "forged cosig",
                                  "cosig of another witness key", "forged proof"])
def test_tampering_refused(case: str) -> None:
    checkpoints = [_checkpoint(5), _checkpoint(12)]
    leaves, consistency = LEAVES, _proof
    if case == "deleted":
        leaves = LEAVES[:10]
    elif case == "rewritten":
        leaves = [*LEAVES[:2], LEAVES[3], *LEAVES[3:]]
    elif case == "wrong hub key":
        checkpoints[1] = _checkpoint(12, key=Ed25519PrivateKey.generate())
    elif case == "forged cosig":
        other = _checkpoint(12)["cosignatures"][0]["signature"]
        checkpoints[0]["cosignatures"][0]["signature"] = other
    elif case == "cosig of another witness key":
        checkpoints[1] = _checkpoint(12, witness=Ed25519PrivateKey.generate())
    elif case == "forged proof":
        def consistency(old: int, new: int) -> list[str]:
            return encode_hashes([hashlib.sha256(b"x").digest()] * 3)
    with pytest.raises(AuditChainError):
        _verify(checkpoints, leaves, consistency=consistency)


def test_witness_view_checked_against_the_hub_log() -> None:
    view = {"cosigned": [{"checkpoint": c["checkpoint"],
                          "cosignature": c["cosignatures"][0]["signature"]}
                         for c in (_checkpoint(5), _checkpoint(12))]}
    assert check_witness_view(LEAVES, view, agency="K12", hub_key=HUB.public_key(),
                              witness_key=K12.public_key()) == 12
    with pytest.raises(AuditChainError, match="deleted"):
        check_witness_view(LEAVES[:11], view, agency="K12", hub_key=HUB.public_key(),
                           witness_key=K12.public_key())
    rewritten = [LEAVES[1], LEAVES[0], *LEAVES[2:]]
    with pytest.raises(AuditChainError, match="rewritten"):
        check_witness_view(rewritten, view, agency="K12", hub_key=HUB.public_key(),
                           witness_key=K12.public_key())
    with pytest.raises(AuditChainError, match="does not verify"):
        check_witness_view(LEAVES, view, agency="K12", hub_key=HUB.public_key(),
                           witness_key=Ed25519PrivateKey.generate().public_key())
