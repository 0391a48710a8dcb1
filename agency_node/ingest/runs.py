"""The life of an ingest run around the load itself: one ingest per node at a time, runs
left behind by a killed ingest found and audited, the final audit event written (or the
run left marked so the next ingest writes it).

Why a lock file and not a ``running`` status alone: a killed process cannot change its
row, but the kernel releases its ``flock`` — so whoever holds the lock knows that every
run still ``running`` is dead, and marks it ``interrupted``.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from agency_node.errors import IngestError
from agency_node.services.audit import AuditLog
from agency_node.store.ingest_runs import unaudited_runs
from agency_node.store.models import IngestRun

LOCK_FILE = "ingest.lock"


@contextmanager
def exclusive_ingest(lock_dir: Path | None) -> Iterator[None]:
    """Hold ``lock_dir/ingest.lock`` for the duration (None: no lock, single-process use)."""
    if lock_dir is None:
        yield
        return
    path = Path(lock_dir) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestError(f"another ingest of this node is running (it holds {path})",
                              code="ingest_running") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def settle_unaudited(sessions: sessionmaker[Session], audit: AuditLog) -> list[int]:
    """Mark runs left ``running`` as ``interrupted`` and audit every unaudited run; the
    ids of the interrupted ones. Call only while holding the ingest lock."""
    interrupted: list[int] = []
    with sessions() as session:
        runs = unaudited_runs(session)
        for run in runs:
            if run.status == "running":
                run.status = "interrupted"
                run.failure = ("the ingest stopped before it finished (killed or crashed); "
                               "nothing from it was kept")
                interrupted.append(run.id)
        session.commit()
        pending = [(run.id, run.status, run.failure or "", _counts(run)) for run in runs]
    for run_id, status, failure, counts in pending:
        reason = "interrupted" if run_id in interrupted else "late_audit"
        finish_audit(sessions, audit, run_id=run_id, outcome=status, reason=reason,
                     details={"run": run_id, "failure": failure, **counts})
    return interrupted


def _counts(run: IngestRun) -> dict[str, Any]:
    return {"rows": run.rows or 0, "loaded": run.loaded or 0, "quarantined": run.quarantined or 0}


def finish_audit(sessions: sessionmaker[Session], audit: AuditLog, *, run_id: int,
                 outcome: str, reason: str, details: dict[str, Any]) -> bool:
    """Write the run's audit event, then mark it audited; False when either write failed
    (the run stays unaudited and the next ingest writes its event)."""
    try:
        audit.append(actor="operator", typ="ingest", outcome=outcome, reason=reason,
                     details=details)
    except (SQLAlchemyError, OSError):
        return False
    try:
        with sessions() as session:
            run = session.get(IngestRun, run_id)
            if run is not None:
                run.audited = True
                session.commit()
    except (SQLAlchemyError, OSError):
        return True  # the event exists; at worst the next ingest writes a second one
    return True
