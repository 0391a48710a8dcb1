"""Appending to the audit chain, in the caller's transaction, and signing checkpoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from hub.db.engine import is_reader
from hub.db.models import AuditCheckpoint, AuditEvent
from hub.domain.audit_chain import event_hash, sign_checkpoint
from hub.domain.roles import Caller
from hub.errors import HubError
from hub.persistence import audit as store
from hub.services.context import HubContext
from protocol.errors import ProtocolError

TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
#: The outcome column's width. Outcomes may embed a code a node chose (up to 64
#: characters); callers keep the whole code in the event's detail.
OUTCOME_CHARS: int = AuditEvent.__table__.c.outcome.type.length


def format_ts(moment: dt.datetime) -> str:
    """Fixed-width UTC ISO text: hashes the same everywhere and sorts as text."""
    return moment.astimezone(dt.UTC).strftime(TS_FORMAT)


def record(
    session: Session,
    ctx: HubContext,
    caller: Caller,
    *,
    action: str,
    outcome: str = "ok",
    object_type: str = "",
    object_id: str = "",
    project: str = "",
    agency: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the current transaction (not committed).

    ``outcome`` is clipped to :data:`OUTCOME_CHARS` (PostgreSQL enforces the width)."""
    head = store.lock_head(session)
    content: dict[str, Any] = {
        "ts": format_ts(ctx.now()),
        "actor": caller.actor,
        "role": caller.role,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "project": project,
        "agency": agency,
        "outcome": outcome[:OUTCOME_CHARS],
        "source": caller.source,
        "detail": detail or {},
    }
    seq = head.seq + 1
    digest = event_hash(content, seq=seq, prev_hash=head.hash)
    event = store.add_event(session, values={**content, "seq": seq, "prev_hash": head.hash,
                                             "hash": digest})
    head.seq, head.hash = seq, digest
    if seq % ctx.settings.audit_checkpoint_every == 0:
        _checkpoint_at(session, ctx, seq=seq, head_hash=digest)
    return event


def _checkpoint_at(
    session: Session, ctx: HubContext, *, seq: int, head_hash: str
) -> AuditCheckpoint | None:
    if ctx.hub_keys is None:
        # The assembly role holds no hub signing key: the chain stays intact and the next
        # checkpoint a linkage-role process signs covers this event too.
        return None
    ts = format_ts(ctx.now())
    kid = ctx.keys.signing_kid
    signature = sign_checkpoint(ctx.keys.signing, seq=seq, head_hash=head_hash, ts=ts, kid=kid)
    return store.add_checkpoint(session, seq=seq, head_hash=head_hash, ts=ts, kid=kid,
                                signature=signature)


def checkpoint_now(session: Session, ctx: HubContext, caller: Caller) -> AuditCheckpoint:
    """Sign a checkpoint at the current head (on demand); the request itself is audited
    first, so the checkpoint covers it."""
    ctx.keys  # noqa: B018 - ConfigError before anything is recorded in a keyless process
    record(session, ctx, caller, action="audit.checkpoint", object_type="audit")
    head = store.lock_head(session)
    checkpoint = _checkpoint_at(session, ctx, seq=head.seq, head_hash=head.hash)
    assert checkpoint is not None
    session.commit()
    return checkpoint


@contextmanager
def writable(session: Session, ctx: HubContext) -> Iterator[Session]:
    """``session`` itself, or — for a reader session (a pure-read route) — a writer session
    of its own. A reader that writes after all is refused at once by SQLite while another
    writer holds the lock; a writer waits for it (busy timeout). So the refusal of a bad
    token on a read route is still a 401 and still audited, never a 503 by chance."""
    if not is_reader(session):
        yield session
        return
    with ctx.session_factory() as writer:
        yield writer


def refuse(
    session: Session,
    ctx: HubContext,
    caller: Caller,
    error: HubError | ProtocolError,
    *,
    action: str,
    **fields: Any,
) -> NoReturn:
    """Undo whatever the refused call changed, audit the refusal on its own, and raise."""
    session.rollback()
    code = error.code if isinstance(error, HubError) else error.reason
    detail = {"code": code, "reason": str(error)[:500], **fields.pop("detail", {})}
    with writable(session, ctx) as target:
        record(target, ctx, caller, action=action, outcome=f"refused:{code}", detail=detail,
               **fields)
        target.commit()
    raise error
