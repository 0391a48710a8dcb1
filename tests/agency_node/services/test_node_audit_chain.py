"""The node's hash-chained audit log: appends link, and any edit names the first broken event."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from agency_node.errors import AuditChainError
from agency_node.runtime import NodeRuntime


def _fill(node_dir: Path, n: int = 5) -> None:
    with NodeRuntime.open(node_dir) as runtime:
        for i in range(n):
            runtime.audit.append(actor="ed25519:" + "a" * 32, typ="match_request",
                                 project_id=f"P-{i}", outcome="refused", reason="not_approved",
                                 details={"records": i})


def _verify(node_dir: Path):
    with NodeRuntime.open(node_dir) as runtime:
        return runtime.audit.verify()


def _sql(node_dir: Path, statement: str) -> None:
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        db.execute(statement)


def test_audit_chain_links_every_event(node_dir: Path) -> None:
    _fill(node_dir)
    report = _verify(node_dir)
    assert report.events == 5
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        from agency_node.store.models import AuditEvent

        events = session.query(AuditEvent).order_by(AuditEvent.seq).all()
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert report.head == events[-1].hash


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE audit_events SET outcome = 'answered' WHERE seq = 3", "event 3 .* altered"),
        ("UPDATE audit_events SET details = '{\"records\": 99}' WHERE seq = 2",
         "event 2 .* altered"),
        ("DELETE FROM audit_events WHERE seq = 4", "event 4 is missing"),
        ("UPDATE audit_events SET prev_hash = hash WHERE seq = 5",
         "event 5 does not link"),
    ],
    ids=["outcome_edited", "details_edited", "row_deleted", "relinked"],
)
def test_audit_chain_names_first_broken_event(
    node_dir: Path, statement: str, message: str
) -> None:
    _fill(node_dir)
    _sql(node_dir, statement)
    with pytest.raises(AuditChainError, match=message):
        _verify(node_dir)


def test_audit_chain_rewritten_hash_still_breaks_the_next_link(node_dir: Path) -> None:
    from agency_node.services.audit import event_hash
    from agency_node.store.models import AuditEvent

    _fill(node_dir)
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        event = session.get(AuditEvent, 2)
        event.outcome = "answered"
        content = {k: getattr(event, k) for k in ("seq", "at", "actor", "typ", "project_id",
                                                  "outcome", "reason", "details")}
        event.hash = event_hash(content, event.prev_hash)
        session.commit()
    with pytest.raises(AuditChainError, match="event 3 does not link"):
        _verify(node_dir)
