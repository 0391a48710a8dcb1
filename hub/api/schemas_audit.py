"""Response bodies of the audit log and transparency-log routes (conventions:
:mod:`hub.api.schemas_views`). Hashes are lowercase hex, signatures base64url."""

from __future__ import annotations

from pydantic import Field

from hub.api.schemas_views import Time, View


class AuditCheckpoint(View):
    """A checkpoint of the hash-chained audit log, signed with the hub's key."""

    seq: int = Field(description="The last event it covers")
    head_hash: str = Field(description="The chain hash of that event")
    ts: str = Field(description="When it was signed")
    kid: str = Field(description="Key id of the hub signing key")
    signature: str


class ChainHead(View):
    seq: int
    hash: str


class AuditCheckpoints(View):
    head: ChainHead
    checkpoints: list[AuditCheckpoint]


class ChainVerdict(View):
    """The hub's own check of its chain: ``intact`` with counts, or where it breaks."""

    intact: bool
    events: int | None = None
    checkpoints: int | None = None
    head_hash: str | None = None
    first_broken_event: int | None = Field(default=None,
                                           description="The first event that fails")
    detail: str | None = None


class Cosignature(View):
    agency: str = Field(description="The witnessing agency node")
    witness: str = Field(description="The witness key's name")
    signature: str
    cosigned_at: int = Field(description="Unix time of the co-signature")


class TlogCheckpoint(View):
    size: int = Field(description="Tree size (events) it covers")
    root_hash: str = Field(description="Merkle tree root of the first `size` events")
    checkpoint: str = Field(description="The signed checkpoint note")
    signed_at: str
    cosignatures: list[Cosignature]


class TlogCheckpoints(View):
    checkpoints: list[TlogCheckpoint]
    tree_size: int = Field(description="Events in the log now")


class WitnessPush(View):
    witnesses: dict[str, str] = Field(description="Each witness agency's outcome")
    checkpoint: TlogCheckpoint


class InclusionProof(View):
    seq: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    hashes: list[str] = Field(description="The audit path, leaf to root")


class ConsistencyProof(View):
    old_size: int
    new_size: int
    hashes: list[str]


class Leaves(View):
    start: int
    event_hashes: list[str] = Field(description="The events' chain hashes from `start`")


class NodeCheckpoint(View):
    agency: str
    size: int
    root_hash: str
    checkpoint: str = Field(description="The node's signed checkpoint note")
    received_at: Time
