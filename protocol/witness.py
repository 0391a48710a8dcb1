"""Fedlink's transparency-log names and the witness messages (docs/signed-messages.md).

Names (signed-note key names and checkpoint origins; no spaces, no ``+``):

* the hub's audit log: origin ``fedlink-hub/<32 hex of the hub signing kid>/audit``, signed
  under that same name — so a node derives the origin from the hub key it pinned at
  enrollment and needs no other configuration;
* agency node ``K12`` as a witness: cosigner name ``fedlink-node/K12``;
* node ``K12``'s own audit log: origin and signer name ``fedlink-node/K12/audit``.

A :class:`WitnessRequest` travels hub → node in a :class:`protocol.signing.SignedEnvelope`
signed by the hub key; the node answers a :class:`WitnessResponse`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, ClassVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import Field, StrictInt, StrictStr, field_validator

from protocol.keyfiles import key_id
from protocol.tlog import HASH_SIZE
from protocol.tlog_note import MAX_NOTE_BYTES
from protocol.wire_types import AgencyCode, Message

#: At most this many hashes in a consistency proof: 2 * 64 covers any tree size < 2**64.
MAX_PROOF_HASHES = 128

__all__ = [
    "WitnessRequest",
    "WitnessResponse",
    "decode_hashes",
    "encode_hashes",
    "hub_log_origin",
    "node_log_origin",
    "witness_name",
]


def hub_log_origin(hub_signing_key: Ed25519PublicKey) -> str:
    """The origin line (and signer name) of the hub's audit log."""
    return f"fedlink-hub/{key_id(hub_signing_key).split(':', 1)[1]}/audit"


def witness_name(agency: str) -> str:
    """The cosigner name of agency ``agency``'s node."""
    return f"fedlink-node/{agency}"


def node_log_origin(agency: str) -> str:
    """The origin line (and signer name) of agency ``agency``'s node audit log."""
    return f"fedlink-node/{agency}/audit"


def encode_hashes(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def decode_hashes(values: list[str]) -> list[bytes]:
    """Base64 proof hashes → bytes; ``ValueError`` for bad base64 or a wrong length."""
    out = []
    for value in values:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a proof hash is not base64") from None
        if len(raw) != HASH_SIZE:
            raise ValueError(f"a proof hash is not {HASH_SIZE} bytes")
        out.append(raw)
    return out


_Note = Annotated[StrictStr, Field(min_length=1, max_length=MAX_NOTE_BYTES)]


class WitnessRequest(Message):
    """Hub → node: co-sign ``checkpoint`` (a signed note), which extends the checkpoint of
    ``old_size`` this node co-signed last, as ``consistency`` (base64 hashes) proves."""

    TYP: ClassVar[str] = "tlog_witness"
    agency: AgencyCode
    checkpoint: _Note
    old_size: Annotated[StrictInt, Field(ge=0, le=2**62)]
    consistency: Annotated[list[StrictStr], Field(max_length=MAX_PROOF_HASHES)]

    @field_validator("consistency")
    @classmethod
    def _hashes(cls, value: list[str]) -> list[str]:
        decode_hashes(value)
        return value


class WitnessResponse(Message):
    """Node → hub: the co-signature line, and the node's own log checkpoint, signed."""

    cosignature: Annotated[StrictStr, Field(min_length=1, max_length=1024)]
    node_checkpoint: _Note
