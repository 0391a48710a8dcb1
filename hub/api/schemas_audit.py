"""Response bodies of the audit log and transparency-log routes (conventions:
:mod:`hub.api.schemas_views`). Hashes are lowercase hex, signatures base64url."""

from __future__ import annotations

from pydantic import Field

from hub.api.schemas_views import Document, Time, View


class AuditEventView(View):
    """One event of the hash-chained audit log. Its hash covers the fields from `ts` to
    `detail` with `seq` and `prev_hash`; `actor_name` and `actor_role` are not hashed."""

    seq: int = Field(description="Its place in the chain (1, 2, …)", examples=[42])
    ts: str = Field(description="When it happened (UTC, microseconds, `Z`)",
                    examples=["2026-12-07T09:30:00.123456Z"])
    actor: str = Field(description="Who acted, by id: `user:N`, `node:AGENCY`, `operator`, "
                       "`worker`, `assembler` or `anonymous`", examples=["user:3"])
    role: str = Field(description="The actor's role when it acted (empty: none)",
                      examples=["governance"])
    action: str = Field(description="What happened", examples=["request.reviewed"])
    object_type: str = Field(description="The kind of object acted on (may be empty)",
                             examples=["request"])
    object_id: str = Field(description="The object's id (may be empty)",
                           examples=["prj-0e14fc18607c"])
    project: str = Field(description="The project (request) concerned (may be empty)",
                         examples=["prj-0e14fc18607c"])
    agency: str = Field(description="The agency concerned (may be empty)", examples=["K12"])
    outcome: str = Field(description="`ok`, or `refused:CODE`", examples=["ok"])
    source: str = Field(description="The caller's network address (may be empty)",
                        examples=["127.0.0.1"])
    detail: Document = Field(description="What else the action recorded (never an "
                             "identity value)")
    prev_hash: str = Field(description="The chain hash (hex) of the event before")
    hash: str = Field(description="This event's chain hash (hex)")
    actor_name: str | None = Field(default=None, description=(
        "The account's current name for a `user:N` actor (null for other actors or a "
        "removed account). Only for auditors and governance; absent for other callers"),
        examples=["Gail Governance"])
    actor_role: str | None = Field(default=None, description=(
        "The account's role for a `user:N` actor (null as for `actor_name`). Only for "
        "auditors and governance; absent for other callers"), examples=["governance"])


class AuditEventPage(View):
    """A page of matching events and the cursors of the pages around it."""

    events: list[AuditEventView] = Field(description="The page's events, in chain order")
    total: int = Field(description="Events matching the filters, on every page",
                       examples=[142])
    position: int = Field(description="1-based place of the page's first event among all "
                          "matching events (0: an empty page)", examples=[1])
    next_after_seq: int | None = Field(description="`after_seq` of the next page (null: "
                                       "this is the last)", examples=[100])
    prev_before_seq: int | None = Field(description="`before_seq` of the previous page "
                                        "(null: this is the first)", examples=[None])


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
