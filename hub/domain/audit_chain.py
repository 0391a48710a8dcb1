"""The audit hash chain: how an event is hashed, how checkpoints are signed, and how a
sequence of events and checkpoints is verified. Pure code, shared by the hub (appending),
the offline verifier (reading the database) and the online verifier (reading the API).

Each event's hash is SHA-256 over a domain-separation prefix and the RFC 8785 canonical
JSON of its content *including* its sequence number and the previous event's hash::

    hash[n] = SHA256("fedlink audit event\\0" || JCS({seq: n, prev_hash: hash[n-1], ts,
                      actor, role, action, object_type, object_id, project, agency,
                      outcome, source, detail}))

with ``hash[0] = "0" * 64`` as the genesis value. Editing an event changes its hash;
deleting one leaves a gap in the sequence; moving one breaks the ``prev_hash`` link.
Deleting the *newest* events leaves a valid shorter chain, which is why the hub signs
checkpoints (``seq``, head hash) with its Ed25519 key: a checkpoint beyond the end of the
chain, or naming another hash at its ``seq``, exposes the truncation or rewrite.

Those checkpoints only guard against others: the hub itself can re-hash and re-sign. The
event hashes are therefore also the leaves of the witnessed transparency log
(:mod:`hub.services.tlog`, :mod:`hub.services.witnessing`), whose checkpoints the agency
nodes co-sign and keep.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.errors import AuditChainError
from protocol.canonical import b64url_decode, b64url_encode, canonical_json

GENESIS_HASH: Final = "0" * 64
EVENT_CONTEXT: Final = b"fedlink audit event\x00"
CHECKPOINT_CONTEXT: Final = b"fedlink audit checkpoint\x00"
#: The fields covered by an event's hash, besides ``seq`` and ``prev_hash``.
CONTENT_FIELDS: Final = (
    "ts",
    "actor",
    "role",
    "action",
    "object_type",
    "object_id",
    "project",
    "agency",
    "outcome",
    "source",
    "detail",
)


def event_hash(content: Mapping[str, Any], *, seq: int, prev_hash: str) -> str:
    """The chain hash of one event (module docstring)."""
    document = {name: content[name] for name in CONTENT_FIELDS}
    document["seq"] = seq
    document["prev_hash"] = prev_hash
    return hashlib.sha256(EVENT_CONTEXT + canonical_json(document)).hexdigest()


def checkpoint_message(*, seq: int, head_hash: str, ts: str, kid: str) -> bytes:
    return CHECKPOINT_CONTEXT + canonical_json(
        {"seq": seq, "head_hash": head_hash, "ts": ts, "kid": kid}
    )


def sign_checkpoint(
    private_key: Ed25519PrivateKey, *, seq: int, head_hash: str, ts: str, kid: str
) -> str:
    message = checkpoint_message(seq=seq, head_hash=head_hash, ts=ts, kid=kid)
    return b64url_encode(private_key.sign(message))


@dataclass(frozen=True, slots=True)
class ChainReport:
    events: int
    head_seq: int
    head_hash: str
    checkpoints: int


def verify_chain(
    events: Iterable[Mapping[str, Any]],
    checkpoints: Iterable[Mapping[str, Any]],
    *,
    keyring: Mapping[str, Ed25519PublicKey],
    expected_head: tuple[int, str] | None = None,
    allow_longer: bool = False,
) -> ChainReport:
    """Verify ``events`` (in the order given) and ``checkpoints``; return a summary or
    raise :class:`AuditChainError` naming the first broken event.

    ``events`` are mappings with ``seq``, ``prev_hash``, ``hash`` and the content fields.
    ``keyring`` maps the hub's kid(s) to public keys trusted for checkpoints.
    ``expected_head`` (seq, hash), when known, is the chain head the hub recorded; with
    ``allow_longer`` the chain may have grown past it (events appended while reading).
    """
    previous_hash = GENESIS_HASH
    expected_seq = 1
    hashes: dict[int, str] = {}
    for event in events:
        seq = int(event["seq"])
        if seq != expected_seq:
            if seq > expected_seq:
                raise AuditChainError(
                    f"audit event {expected_seq} is missing (next is {seq})", seq=expected_seq
                )
            raise AuditChainError(
                f"audit event {seq} is out of order (expected {expected_seq})", seq=seq
            )
        if event["prev_hash"] != previous_hash:
            raise AuditChainError(
                f"audit event {seq} does not link to event {seq - 1} (moved or reordered)",
                seq=seq,
            )
        if event_hash(event, seq=seq, prev_hash=previous_hash) != event["hash"]:
            raise AuditChainError(f"audit event {seq} was altered (hash mismatch)", seq=seq)
        hashes[seq] = previous_hash = str(event["hash"])
        expected_seq += 1
    head_seq = expected_seq - 1
    count = 0
    for checkpoint in sorted(checkpoints, key=lambda c: int(c["seq"])):
        count += 1
        _verify_checkpoint(checkpoint, keyring=keyring, hashes=hashes, head_seq=head_seq)
    if expected_head is not None:
        _check_head(expected_head, hashes=hashes, head_seq=head_seq, allow_longer=allow_longer)
    return ChainReport(events=head_seq, head_seq=head_seq, head_hash=previous_hash,
                       checkpoints=count)


def _check_head(
    expected: tuple[int, str], *, hashes: Mapping[int, str], head_seq: int, allow_longer: bool
) -> None:
    seq, head = expected
    if seq > head_seq:
        raise AuditChainError(
            f"the chain head records {seq} events but {head_seq} are present; "
            f"audit event {head_seq + 1} is missing",
            seq=head_seq + 1,
        )
    if seq < head_seq and not allow_longer:
        raise AuditChainError(f"audit event {seq + 1} was added behind the chain head", seq=seq + 1)
    if seq and head != hashes.get(seq):
        raise AuditChainError(f"audit event {seq} does not match the chain head", seq=seq)


def _verify_checkpoint(
    checkpoint: Mapping[str, Any],
    *,
    keyring: Mapping[str, Ed25519PublicKey],
    hashes: Mapping[int, str],
    head_seq: int,
) -> None:
    seq = int(checkpoint["seq"])
    public_key = keyring.get(str(checkpoint["kid"]))
    if public_key is None:
        raise AuditChainError(
            f"checkpoint at event {seq} is signed by an unknown key {checkpoint['kid']}", seq=seq
        )
    message = checkpoint_message(
        seq=seq, head_hash=str(checkpoint["head_hash"]), ts=str(checkpoint["ts"]),
        kid=str(checkpoint["kid"]),
    )
    try:
        public_key.verify(b64url_decode(str(checkpoint["signature"])), message)
    except (InvalidSignature, ValueError):
        raise AuditChainError(f"checkpoint at event {seq} has a bad signature", seq=seq) from None
    if seq > head_seq:
        raise AuditChainError(
            f"a signed checkpoint covers event {seq} but the chain ends at {head_seq}; "
            f"audit event {head_seq + 1} is missing",
            seq=head_seq + 1,
        )
    if seq and hashes.get(seq) != checkpoint["head_hash"]:
        raise AuditChainError(
            f"audit event {seq} differs from the signed checkpoint", seq=seq
        )
