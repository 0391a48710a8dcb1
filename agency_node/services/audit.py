"""The node's tamper-evident audit log.

Every request answered or refused (and every ingest, decision and enrollment) appends one
event: time, who asked (the hub key id, or ``steward``/``operator`` for local commands),
message type, project, outcome, reason and counts/variable names — never a value. Event
``n`` stores ``hash_n = SHA-256(hash_{n-1} ‖ canonical_json(content_n))`` with RFC 8785
canonical JSON and 64 zeros before the first event; editing, inserting or deleting a
row in the middle breaks every later link, and :meth:`AuditLog.verify` names the first.

A chain alone does not stop whoever holds the store from rewriting it whole and
re-hashing. So the node also signs *log checkpoints* with its key (:meth:`AuditLog.checkpoint`):
a C2SP checkpoint whose root is the RFC 9162 Merkle root over the events' chain hashes
(leaf ``seq - 1`` = ``leaf_hash(hash_seq)``). It hands one to the hub with every witness
co-signature, so copies live outside the node; :meth:`AuditLog.verify_checkpoints` checks
the log against any set of them — a deleted or rewritten event no longer matches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agency_node.errors import AuditChainError
from agency_node.store import witness as checkpoint_store
from agency_node.store.audit import insert_event, iter_events, last_event
from agency_node.store.models import AuditEvent
from protocol.canonical import canonical_json
from protocol.tlog import leaf_hash, root
from protocol.tlog_note import Checkpoint, NoteError, open_checkpoint, sign_checkpoint
from protocol.witness import node_log_origin

GENESIS_HASH = "0" * 64
#: Events between two calls of the ``progress`` callback of :meth:`AuditLog.verify`.
PROGRESS_EVERY = 100
_CONTENT_FIELDS = ("seq", "at", "actor", "typ", "project_id", "outcome", "reason", "details")


def event_hash(content: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(content)).hexdigest()


def _content(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _CONTENT_FIELDS}


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str


@dataclass(frozen=True)
class CheckpointReport:
    checkpoints: int
    largest: int


class AuditLog:
    """Appends to and verifies the chain in one node store."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()

    def append(
        self,
        *,
        actor: str,
        typ: str,
        outcome: str,
        project_id: str = "",
        reason: str = "",
        details: dict[str, Any] | None = None,
        now: dt.datetime | None = None,
    ) -> AuditEvent:
        at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
        body = {"at": at, "actor": actor[:256], "typ": typ, "project_id": project_id,
                "outcome": outcome, "reason": reason, "details": details or {}}
        with self._lock:
            # Another process may append between our read and our insert: the primary key
            # on seq refuses the second writer, which re-reads the head and retries.
            for _attempt in range(20):
                with self._sessions() as session:
                    head = last_event(session)
                    prev = head.hash if head else GENESIS_HASH
                    content = {"seq": (head.seq + 1) if head else 1, **body}
                    values = {**content, "prev_hash": prev, "hash": event_hash(content, prev)}
                    try:
                        event = insert_event(session, values=values)
                        session.commit()
                    except IntegrityError:
                        session.rollback()
                        continue
                    return event
        raise AuditChainError("could not append to the audit log: too much contention")

    def verify(self, progress: Callable[[int, int | None], None] | None = None) -> ChainReport:
        """Walk the chain; raise :class:`AuditChainError` naming the first broken event.
        ``progress(verified, total)`` is called as events are checked (the CLI's bar)."""
        prev = GENESIS_HASH
        expected_seq = 1
        count = 0
        with self._sessions() as session:
            head = last_event(session) if progress is not None else None
            total = head.seq if head is not None else 0
            for event in iter_events(session):
                if event.seq != expected_seq:
                    raise AuditChainError(
                        f"audit event {expected_seq} is missing (next stored event is "
                        f"{event.seq})"
                    )
                if event.prev_hash != prev:
                    raise AuditChainError(
                        f"audit event {event.seq} does not link to event {event.seq - 1}"
                    )
                if event_hash(_content(event), prev) != event.hash:
                    raise AuditChainError(
                        f"audit event {event.seq} ({event.typ}, {event.at}) was altered: its "
                        "hash does not match its content"
                    )
                prev = event.hash
                expected_seq += 1
                count += 1
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(count, total)
        if progress is not None and (count == 0 or count % PROGRESS_EVERY):
            progress(count, total)  # the tail since the last report
        return ChainReport(events=count, head=prev)

    def checkpoint(self, *, agency: str, key: Ed25519PrivateKey) -> str:
        """Sign (and keep) a checkpoint of the log as it is now; returns the signed note."""
        origin = node_log_origin(agency)
        with self._sessions() as session:
            leaves = [leaf_hash(bytes.fromhex(h)) for h in checkpoint_store.event_hashes(session)]
            head = Checkpoint(origin=origin, size=len(leaves), root_hash=root(leaves))
            note = sign_checkpoint(head, name=origin, key=key)
            checkpoint_store.save_log_checkpoint(session, size=head.size,
                                                 root_hash=head.root_hash.hex(), note=note)
            session.commit()
        return note

    def stored_checkpoints(self) -> list[str]:
        """The log checkpoints this node signed and kept (signed notes)."""
        with self._sessions() as session:
            return [c.note for c in checkpoint_store.list_log_checkpoints(session)]

    def verify_checkpoints(self, notes: list[str], *, agency: str,
                           public_key: Ed25519PublicKey) -> CheckpointReport:
        """Check the log against signed checkpoints (held here or, stronger, elsewhere);
        raise :class:`AuditChainError` for one the log no longer matches."""
        origin = node_log_origin(agency)
        with self._sessions() as session:
            hashes = checkpoint_store.event_hashes(session)
        try:
            leaves = [leaf_hash(bytes.fromhex(h)) for h in hashes]
        except ValueError:
            raise AuditChainError("an audit event hash is not hex: the log was edited") from None
        largest = 0
        for note in notes:
            try:
                head, _ = open_checkpoint(note, name=origin, public_key=public_key,
                                          origin=origin)
            except NoteError as exc:
                raise AuditChainError(f"a log checkpoint does not verify: {exc}") from None
            if head.size > len(leaves):
                raise AuditChainError(
                    f"the node signed a checkpoint of {head.size} audit events but the log "
                    f"has {len(leaves)}: events were deleted")
            if root(leaves, head.size) != head.root_hash:
                raise AuditChainError(
                    f"the first {head.size} audit events differ from the checkpoint the node "
                    "signed: the log was rewritten")
            largest = max(largest, head.size)
        return CheckpointReport(checkpoints=len(notes), largest=largest)
