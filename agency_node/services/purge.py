"""Deleting the node's issued pseudonym map of a project at the end of its life
(docs/agency-node.md, "Purge at end of life").

The ``issued_pids`` table maps every pseudonymous id this node sent the hub for a project
to the record behind it: whoever holds it and the hub's links can name the record behind
any person of an extract. Once the project is over it serves no one, so:

* :func:`purge_project` deletes the project's map and appends one ``pids_purged`` audit
  event (reason, count — never a pid). A revocation handler calls it with
  ``reason="revoked"``; calling it again deletes nothing and appends nothing.
* :func:`sweep` purges every project whose approved ``term_end`` is before today **by the
  node's own clock** (``reason="term_ended"``) — whatever the hub says.
* :class:`PurgeSweeper` runs the sweep when ``fedlink node serve`` starts and then every
  ``purge_sweep_seconds`` (``FEDLINK_NODE_PURGE_SWEEP_SECONDS``, default 3600).

Rows are deleted, not crypto-shredded: nothing in the node's audit trail refers to a pid
(events carry counts), so no row has to stay.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Final

from sqlalchemy.exc import SQLAlchemyError

from agency_node.errors import NodeError
from agency_node.runtime import NodeRuntime
from agency_node.store import purge as store

log = logging.getLogger("agency_node.purge")
REASONS: Final = ("term_ended", "revoked", "destroyed")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def purge_project(runtime: NodeRuntime, *, project_id: str, reason: str,
                  actor: str = "node", now: dt.datetime | None = None) -> int:
    """Delete ``project_id``'s issued pids; how many were deleted. Audited when something
    was deleted or the project was never purged before (so a revocation always shows)."""
    if reason not in REASONS:
        raise ValueError(f"unknown purge reason {reason!r}")
    when = (now or _utcnow()).astimezone(dt.UTC)
    with runtime.sessions() as session:
        first = store.get_purged(session, project_id=project_id) is None
        deleted = store.delete_issued(session, project_id=project_id)
        if not deleted and not first:
            session.rollback()
            return 0
        store.record_purge(session, project_id=project_id, reason=reason,
                           purged_at=when.isoformat(timespec="seconds"), pids=deleted)
        session.commit()
    runtime.audit.append(actor=actor, typ="pids_purged", outcome="purged",
                         project_id=project_id, reason=reason, details={"pids": deleted},
                         now=when)
    return deleted


def sweep(runtime: NodeRuntime, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Purge every project whose term ended (by this node's clock) and that still has
    issued pids or was never purged; ``{project: pids deleted}``."""
    when = (now or _utcnow()).astimezone(dt.UTC)
    with runtime.sessions() as session:
        due = [p for p in store.ended_projects(session, today=when.date().isoformat())
               if store.get_purged(session, project_id=p) is None
               or store.count_issued(session, project_id=p)]
    return {p: purge_project(runtime, project_id=p, reason="term_ended", now=when)
            for p in due}


class PurgeSweeper:
    """Runs :func:`sweep` now and every ``interval`` seconds in a daemon thread."""

    def __init__(self, runtime: NodeRuntime, *, interval: float,
                 clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self._runtime, self._interval, self._clock = runtime, interval, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fedlink-node-purge",
                                        daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                done = sweep(self._runtime, now=self._clock())
                if done:
                    log.info("purged the issued pids of %d ended project(s)", len(done))
            except (NodeError, SQLAlchemyError, OSError) as exc:
                log.warning("purge sweep failed (%s); trying again later", type(exc).__name__)
            self._stop.wait(self._interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
