"""Searching and exporting the audit log (auditors), and the hub's own chain check."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import AuditCheckpoint, AuditEvent
from hub.domain.audit_chain import ChainReport, verify_chain
from hub.domain.csv_cells import safe_row
from hub.domain.roles import Caller, Role
from hub.errors import InvalidInputError
from hub.persistence import audit as store
from hub.persistence import identity as identity_store
from hub.services import audit
from hub.services.context import HubContext

#: The export formats, with their media types (the API and the audit page both answer
#: with these).
EXPORT_MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
EVENT_FIELDS = ("seq", "ts", "actor", "role", "action", "object_type", "object_id", "project",
                "agency", "outcome", "source", "detail", "prev_hash", "hash")
#: Who may see who the actors are: the chain names a person by id only (``user:3``: it is
#: permanent, a name is not); searches and exports for these roles add each user actor's
#: current name and role (not part of the hashed event).
NAME_READERS = frozenset({Role.AUDITOR, Role.GOVERNANCE})
NAMED_FIELDS = ("actor_name", "actor_role")


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in EVENT_FIELDS}


def shows_names(caller: Caller) -> bool:
    """Whether ``caller`` is shown actors' names and roles (:data:`NAME_READERS`)."""
    return caller.principal is not None and caller.principal.kind == "user" and (
        caller.principal.role in NAME_READERS)


def _user_id(actor: str) -> int | None:
    number = actor.removeprefix("user:")
    return int(number) if actor.startswith("user:") and number.isdigit() else None


def with_actor_names(session: Session, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` each with ``actor_name`` and ``actor_role``: the account's name and role
    for a ``user:N`` actor, ``None`` for other actors (nodes, the operator, workers,
    anonymous callers) and for accounts that no longer exist."""
    ids = {uid for e in events if (uid := _user_id(str(e["actor"]))) is not None}
    users = identity_store.users_by_ids(session, ids=ids) if ids else {}
    named = []
    for event in events:
        user = users.get(_user_id(str(event["actor"])) or -1)
        named.append({**event, "actor_name": user.name if user else None,
                      "actor_role": user.role if user else None})
    return named


def checkpoint_view(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {"seq": checkpoint.seq, "head_hash": checkpoint.head_hash, "ts": checkpoint.ts,
            "kid": checkpoint.kid, "signature": checkpoint.signature}


def time_bound(name: str, text: str | None) -> str | None:
    """``since``/``until`` as the stored timestamps' fixed-width UTC text, so comparing
    text compares times. A date is that UTC day's midnight; a time without an offset is
    UTC. ``since`` is inclusive, ``until`` exclusive (``until=2026-12-07`` ends with the
    last event of 2026-12-06)."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        moment = moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidInputError(f"{name}: {text[:40]!r} is not an ISO date or time, for "
                                "example 2026-12-07 or 2026-12-07T09:30:00Z") from None
    # isoformat pads the year to four digits (strftime's %Y does not, below 1000).
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _checked(filters: dict[str, Any]) -> dict[str, Any]:
    return {**filters, "since": time_bound("since", filters.get("since")),
            "until": time_bound("until", filters.get("until"))}


def search(session: Session, ctx: HubContext, caller: Caller, *, filters: dict[str, Any],
           after_seq: int = 0, before_seq: int | None = None, limit: int) -> dict[str, Any]:
    """One page of events: after ``after_seq`` (forward) or before ``before_seq``
    (backward). ``position`` is the 1-based place of the page's first event among all
    matching events; ``next_after_seq`` / ``prev_before_seq`` are the cursors of the next
    and previous pages (``None`` at either end). The search itself is audited *after* the
    page is read, so an auditor paging through the whole chain does not chase a moving end."""
    filters = _checked(filters)
    if after_seq and before_seq is not None:
        raise InvalidInputError("give after_seq (next page) or before_seq (previous page), "
                                "not both")
    page = store.page_events(session, filters=filters, after_seq=after_seq,
                             before_seq=before_seq, limit=limit)
    audit.record(session, ctx, caller, action="audit.searched", object_type="audit",
                 detail={k: v for k, v in filters.items() if v})
    session.commit()
    events = [event_view(e) for e in page.events]
    if shows_names(caller):
        events = with_actor_names(session, events)
    shown_to = page.earlier + len(events)
    return {
        "events": events,
        "total": page.total,
        "position": page.earlier + 1 if events else 0,
        "next_after_seq": events[-1]["seq"] if events and shown_to < page.total else None,
        "prev_before_seq": ((events[0]["seq"] if events else after_seq + 1)
                            if page.earlier else None),
    }


def export(session: Session, ctx: HubContext, caller: Caller, *, filters: dict[str, Any],
           fmt: str) -> Iterator[str]:
    """Every matching event as CSV or JSON Lines; the export is audited before streaming.
    The one implementation behind the API's ``format=csv|jsonl`` and the audit page's
    export links."""
    filters = _checked(filters)
    audit.record(session, ctx, caller, action="audit.exported", object_type="audit",
                 detail={"format": fmt, **{k: v for k, v in filters.items() if v}})
    session.commit()
    rows = [event_view(e) for e in store.iter_matching(session, filters=filters)]
    fields: tuple[str, ...] = EVENT_FIELDS
    if shows_names(caller):
        rows, fields = with_actor_names(session, rows), (*EVENT_FIELDS, *NAMED_FIELDS)
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # Actor names, reasons and details come from callers: no cell may run as a formula.
        writer.writerow(safe_row({**row, "detail": json.dumps(row["detail"], sort_keys=True)}))
    yield buffer.getvalue()


def export_filename(fmt: str) -> str:
    return f"hub-audit.{fmt}"


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
