"""Searching and exporting the audit log (auditors), and the hub's own chain check."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import AuditCheckpoint, AuditEvent
from hub.domain.audit_chain import ChainReport, verify_chain
from hub.domain.csv_cells import safe_row
from hub.domain.roles import Caller
from hub.persistence import audit as store
from hub.services import audit
from hub.services.context import HubContext

EVENT_FIELDS = ("seq", "ts", "actor", "role", "action", "object_type", "object_id", "project",
                "agency", "outcome", "source", "detail", "prev_hash", "hash")


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in EVENT_FIELDS}


def checkpoint_view(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {"seq": checkpoint.seq, "head_hash": checkpoint.head_hash, "ts": checkpoint.ts,
            "kid": checkpoint.kid, "signature": checkpoint.signature}


def search(session: Session, ctx: HubContext, caller: Caller, *, filters: dict[str, Any],
           after_seq: int, limit: int) -> dict[str, Any]:
    """One page of events; the search itself is audited *after* the page is read, so an
    auditor paging through the whole chain does not chase a moving end."""
    events, total = store.search_events(session, after_seq=after_seq, limit=limit, **filters)
    audit.record(session, ctx, caller, action="audit.searched", object_type="audit",
                 detail={k: v for k, v in filters.items() if v})
    session.commit()
    return {
        "events": [event_view(e) for e in events],
        "total": total,
        "next_after_seq": events[-1].seq if len(events) == limit else None,
    }


def export(session: Session, ctx: HubContext, caller: Caller, *, filters: dict[str, Any],
           fmt: str) -> Iterator[str]:
    """Every matching event as CSV or JSON Lines; the export is audited before streaming."""
    audit.record(session, ctx, caller, action="audit.exported", object_type="audit",
                 detail={"format": fmt, **{k: v for k, v in filters.items() if v}})
    session.commit()
    rows: list[dict[str, Any]] = []
    after = 0
    while True:
        page, _ = store.search_events(session, after_seq=after, limit=1000, **filters)
        if not page:
            break
        rows.extend(event_view(e) for e in page)
        after = page[-1].seq
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EVENT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # Actor names, reasons and details come from callers: no cell may run as a formula.
        writer.writerow(safe_row({**row, "detail": json.dumps(row["detail"], sort_keys=True)}))
    yield buffer.getvalue()


def checkpoints(session: Session) -> list[dict[str, Any]]:
    return [checkpoint_view(c) for c in store.list_checkpoints(session)]


def verify_database(session: Session, ctx: HubContext) -> ChainReport:
    """Walk the whole chain in the database and check every checkpoint with the hub key."""
    head = store.get_head(session)
    return verify_chain(
        (event_view(e) for e in store.iter_events(session)),
        checkpoints(session),
        keyring={ctx.keys.signing_kid: ctx.keys.signing_public},
        expected_head=(head.seq, head.hash) if head else (0, ""),
    )
