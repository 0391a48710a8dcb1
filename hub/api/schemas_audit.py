"""Response bodies of the audit log and transparency-log routes (conventions:
:mod:`hub.api.schemas_views`). Hashes are lowercase hex, signatures base64url."""

from __future__ import annotations

from pydantic import Field

from hub.api.schemas_views import Time, View


class AuditCheckpoint(View):
    """A checkpoint of the hash-chained audit log, signed with the hub's key."""

    seq: int = Field(description="The last event it covers", examples=[142])
    head_hash: str = Field(description="The chain hash of that event")
    ts: str = Field(description="When it was signed (UTC, microseconds, `Z`)",
                    examples=["2026-12-07T09:30:00.123456Z"])
    kid: str = Field(description="Key id of the hub signing key",
                     examples=["ed25519:4f1c2a9e0b7d3c5a8e6f1029384756ab"])
    signature: str = Field(description="Ed25519 signature over the checkpoint (base64url); "
                           "check it with the hub's key from `GET /v1/hub/keys`")


class ChainHead(View):
    seq: int = Field(description="Sequence number of the newest event",
                     examples=[142])
    hash: str = Field(description="Its chain hash (hex): each event's hash covers the one "
                      "before")


class AuditCheckpoints(View):
    head: ChainHead = Field(description="The chain's newest event now")
    checkpoints: list[AuditCheckpoint] = Field(description="The signed checkpoints, oldest "
                                               "first")


class ChainVerdict(View):
    """The hub's own check of its chain: ``intact`` with counts, or where it breaks."""

    intact: bool = Field(description="true: every event's hash and every checkpoint's "
                         "signature checks out")
    events: int | None = Field(default=None, description="Events checked (only when intact)",
                               examples=[142])
    checkpoints: int | None = Field(default=None, description="Signed checkpoints checked "
                                    "(only when intact)", examples=[14])
    head_hash: str | None = Field(default=None, description="Chain hash (hex) of the newest "
                                  "event (only when intact)")
    first_broken_event: int | None = Field(default=None,
                                           description="The first event that fails")
    detail: str | None = Field(default=None, description="What is wrong (only when broken)")


class Cosignature(View):
    agency: str = Field(description="The witnessing agency node")
    witness: str = Field(description="The witness key's name")
    signature: str = Field(description="The witness's Ed25519 co-signature (base64url)")
    cosigned_at: int = Field(description="Unix time of the co-signature")


class TlogCheckpoint(View):
    size: int = Field(description="Tree size (events) it covers")
    root_hash: str = Field(description="Merkle tree root of the first `size` events")
    checkpoint: str = Field(description="The signed checkpoint note")
    signed_at: str = Field(description="When the hub signed it (UTC, microseconds, `Z`)",
                           examples=["2026-12-07T09:30:00.123456Z"])
    cosignatures: list[Cosignature] = Field(description="The agency nodes' co-signatures "
                                            "(witnesses) so far")


class TlogCheckpoints(View):
    checkpoints: list[TlogCheckpoint] = Field(description="Signed checkpoints, oldest first")
    tree_size: int = Field(description="Events in the log now")


class WitnessPush(View):
    witnesses: dict[str, str] = Field(description="Each witness agency's outcome")
    checkpoint: TlogCheckpoint = Field(description="The checkpoint pushed, with the "
                                       "co-signatures gathered")


class InclusionProof(View):
    seq: int = Field(description="The audit event's sequence number", examples=[42])
    leaf_index: int = Field(description="Its position in the Merkle tree (seq - 1)",
                            examples=[41])
    tree_size: int = Field(description="Size of the tree the proof is for", examples=[142])
    leaf_hash: str = Field(description="The leaf's Merkle hash (hex)")
    root_hash: str = Field(description="The root hash (hex) of the first `tree_size` events")
    hashes: list[str] = Field(description="The audit path, leaf to root")


class ConsistencyProof(View):
    old_size: int = Field(description="The smaller tree size", examples=[100])
    new_size: int = Field(description="The larger tree size", examples=[142])
    hashes: list[str] = Field(description="The proof's hashes (hex): the first `old_size` "
                              "events are a prefix of the first `new_size`")


class Leaves(View):
    start: int = Field(description="Sequence number of the first event listed",
                       examples=[1])
    event_hashes: list[str] = Field(description="The events' chain hashes from `start`")


class NodeCheckpoint(View):
    agency: str = Field(description="The agency whose node log it is", examples=["K12"])
    size: int = Field(description="Entries in the node's log it covers", examples=[37])
    root_hash: str = Field(description="Merkle root (hex) of those entries")
    checkpoint: str = Field(description="The node's signed checkpoint note")
    received_at: Time
