"""Client-side checks of the hub's transparency log (``fedlink audit verify --hub``).

:func:`verify_hub_tlog` takes the events' chain hashes (already checked as a chain by
:func:`hub.domain.audit_chain.verify_chain`), every checkpoint the hub shows with its
co-signatures, and checks: each checkpoint is signed by the hub key under the hub's origin;
the log holds at least its size and the Merkle root of its first ``size`` leaves is its
root (a checkpoint beyond the log = events deleted; another root = events rewritten);
successive checkpoints are consistent (RFC 9162 proof from the hub, verified here); and
every co-signature verifies with that witness's key. It reports which witness co-signed
which sizes.

:func:`check_witness_view` compares the hub log with the checkpoints a witness node says it
co-signed (asked directly, not through the hub): each must be hub-signed, co-signed by
that node, and match the hub log — otherwise the hub showed the witness a log it no longer
has. Failures raise :class:`hub.errors.AuditChainError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.errors import AuditChainError
from protocol.errors import ProtocolError
from protocol.tlog import leaf_hash, root, verify_consistency
from protocol.tlog_note import Checkpoint, NoteSignature, open_checkpoint, verify_cosignature
from protocol.witness import decode_hashes, hub_log_origin, witness_name


@dataclass
class TlogReport:
    checkpoints: int = 0
    largest: int = 0
    #: agency → sizes it co-signed (verified).
    witnessed: dict[str, list[int]] = field(default_factory=dict)
    #: agencies whose co-signatures could not be checked (no key for them).
    unverified: set[str] = field(default_factory=set)


def leaves_of(event_hashes: Iterable[str]) -> list[bytes]:
    return [leaf_hash(bytes.fromhex(h)) for h in event_hashes]


def _open(note: str, hub_key: Ed25519PublicKey) -> tuple[Checkpoint, str]:
    origin = hub_log_origin(hub_key)
    try:
        checkpoint, signed = open_checkpoint(note, name=origin, public_key=hub_key,
                                             origin=origin)
    except ProtocolError as exc:
        raise AuditChainError(f"a transparency-log checkpoint does not verify: {exc}") from None
    return checkpoint, signed.body


def _matches(leaves: list[bytes], checkpoint: Checkpoint, whose: str) -> None:
    if checkpoint.size > len(leaves):
        raise AuditChainError(
            f"{whose} covers {checkpoint.size} events but the hub log has {len(leaves)}: "
            f"events were deleted (rollback)", seq=len(leaves) + 1)
    if root(leaves, checkpoint.size) != checkpoint.root_hash:
        raise AuditChainError(
            f"the first {checkpoint.size} events of the hub log differ from {whose}: "
            "history was rewritten", seq=checkpoint.size)


def verify_hub_tlog(
    leaves: list[bytes],
    checkpoints: list[Mapping[str, Any]],
    *,
    hub_key: Ed25519PublicKey,
    witness_keys: Mapping[str, Ed25519PublicKey],
    consistency: Callable[[int, int], list[str]] | None = None,
) -> TlogReport:
    """Check the hub's checkpoints and co-signatures against ``leaves`` (module docstring)."""
    report = TlogReport()
    previous: Checkpoint | None = None
    for item in sorted(checkpoints, key=lambda c: int(c["size"])):
        checkpoint, body = _open(str(item["checkpoint"]), hub_key)
        _matches(leaves, checkpoint, f"the hub's signed checkpoint of size {checkpoint.size}")
        if previous is not None and consistency is not None:
            try:
                verify_consistency(previous.size, checkpoint.size, previous.root_hash,
                                   checkpoint.root_hash,
                                   decode_hashes(consistency(previous.size, checkpoint.size)))
            except (ProtocolError, ValueError) as exc:
                raise AuditChainError(
                    f"checkpoints of size {previous.size} and {checkpoint.size} are not "
                    f"consistent: {exc}", seq=previous.size) from None
        for cosig in item.get("cosignatures", []):
            agency = str(cosig["agency"])
            key = witness_keys.get(agency)
            if key is None:
                report.unverified.add(agency)
                continue
            try:
                verify_cosignature(body, NoteSignature.parse(str(cosig["signature"])),
                                   name=witness_name(agency), public_key=key)
            except ProtocolError as exc:
                raise AuditChainError(
                    f"the co-signature of witness {agency} on the checkpoint of size "
                    f"{checkpoint.size} does not verify: {exc}") from None
            report.witnessed.setdefault(agency, []).append(checkpoint.size)
        report.checkpoints += 1
        report.largest = checkpoint.size
        previous = checkpoint
    return report


def check_witness_view(leaves: list[bytes], view: Mapping[str, Any], *, agency: str,
                       hub_key: Ed25519PublicKey, witness_key: Ed25519PublicKey) -> int:
    """Check what witness ``agency`` says it co-signed against the hub log; returns the
    largest size it co-signed."""
    largest = 0
    for item in view.get("cosigned", []):
        checkpoint, body = _open(str(item["checkpoint"]), hub_key)
        try:
            verify_cosignature(body, NoteSignature.parse(str(item["cosignature"])),
                               name=witness_name(agency), public_key=witness_key)
        except ProtocolError as exc:
            raise AuditChainError(f"witness {agency} holds a co-signature that does not "
                                  f"verify with its key: {exc}") from None
        _matches(leaves, checkpoint,
                 f"the checkpoint witness {agency} co-signed at size {checkpoint.size}")
        largest = max(largest, checkpoint.size)
    return largest
