"""The node's tamper-evident audit log.

Every request answered or refused (and every ingest, decision and enrollment) appends one
event: time, who asked (the hub key id, or ``steward``/``operator`` for local commands),
message type, project, outcome, reason and counts/variable names — never a value. Event
``n`` stores ``hash_n = SHA-256(hash_{n-1} ‖ canonical_json(content_n))`` with RFC 8785
canonical JSON and 64 zeros before the first event; editing, inserting or deleting a
row in the middle breaks every later link, and :meth:`AuditLog.verify` names the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agency_node.errors import AuditChainError
from agency_node.store.audit import insert_event, iter_events, last_event
from agency_node.store.models import AuditEvent
from protocol.canonical import canonical_json

GENESIS_HASH = "0" * 64
_CONTENT_FIELDS = ("seq", "at", "actor", "typ", "project_id", "outcome", "reason", "details")


def event_hash(content: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(content)).hexdigest()


def _content(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _CONTENT_FIELDS}


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str


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

    def verify(self) -> ChainReport:
        """Walk the chain; raise :class:`AuditChainError` naming the first broken event."""
        prev = GENESIS_HASH
        expected_seq = 1
        count = 0
        with self._sessions() as session:
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
        return ChainReport(events=count, head=prev)
