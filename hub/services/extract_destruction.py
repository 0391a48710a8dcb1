"""Destroying extracts (crypto-shredding) and the sweeper that does it on schedule.

:func:`destroy_extract`: in one transaction the wrapped key row is overwritten and deleted
(:func:`hub.persistence.extracts.destroy_key`), the researcher-sealed key copy dropped, the
extract marked ``destroyed`` with what was destroyed, and an ``extract.destroyed`` event
appended; after the commit the file is overwritten and deleted. Once the key row is gone
the ciphertext cannot be decrypted by anyone, so a crash between the two steps leaves only
unreadable bytes — which the next sweep removes (``extract.file_shredded``).

:func:`sweep` — at the end of the term, on revocation or closure, and for leftovers:

1. projects whose term ended move to ``expired`` (:func:`hub.services.requests.expire_due`);
2. every ``available`` or ``held`` extract of an expired, revoked or closed project, or
   past its own ``expires_at``, is destroyed;
3. ``building`` extracts that no live job will finish (their assembler died and the
   job's attempts are used up) end ``failed`` with code ``interrupted``
   (:mod:`hub.services.extract_recovery`);
4. files of destroyed or failed extracts that are still on disk — including the partial
   ``<id>.flx`` of a build that died before recording its file name — are shredded;
5. the pid-level linkage results of every expired, closed or revoked project are purged
   (:mod:`hub.services.linkage_purge`; also at revocation and at an extract's destruction
   for expiry, revocation or certified destruction).
6. a refresh linkage run is started for every ready project whose agreement's
   ``refresh_frequency`` makes one due (:mod:`hub.services.refresh`, docs/refresh.md).

Running it twice does nothing the second time (and appends nothing to the audit chain).
:class:`ExtractSweeper` runs it every ``extract_sweep_seconds`` in a daemon thread of the
hub process; ``fedlink hub sweep --dir DIR`` runs it once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Final

from sqlalchemy.exc import SQLAlchemyError

from hub.db.models import Extract
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller, Principal
from hub.errors import HubError, NotFoundError
from hub.extracts.crypto import shred_file
from hub.persistence import extracts as store
from hub.persistence import purge as purge_store
from hub.persistence import requests as request_store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.extract_recovery import partial_file, settle_stranded
from hub.services.linkage_purge import PURGING_REASONS, purge_project

log = logging.getLogger("hub.extracts")
S = RequestStatus
#: The in-process sweeper, as the audit log names it.
SWEEPER: Final = Caller(Principal(kind="worker", id=None, role="sweeper"), source="local")
LIVE: Final = ("available", "held")
ENDED_PROJECT: Final = (S.EXPIRED, S.REVOKED)


def _file(ctx: HubContext, extract: Extract) -> Path | None:
    if not extract.file_name:
        return None
    return Path(ctx.settings.extracts_dir or ctx.settings.dir / "extracts") / extract.file_name


def destroy_extract(ctx: HubContext, caller: Caller, *, extract_id: str, reason: str,
                    detail: dict[str, Any] | None = None) -> bool:
    """Destroy key and file of ``extract_id``; ``False`` if it was already destroyed."""
    with ctx.session_factory() as session:
        extract = store.get_extract(session, extract_id=extract_id, lock=True)
        if extract is None:
            raise NotFoundError(f"extract {extract_id} does not exist")
        if extract.status == "destroyed":
            return False
        path = _file(ctx, extract)
        size = path.stat().st_size if path is not None and path.exists() else 0
        key_destroyed = store.destroy_key(session, extract_id=extract_id)
        what = {"reason": reason, "key_destroyed": key_destroyed,
                "researcher_key_copy_dropped": extract.recipient_key is not None,
                "file": extract.file_name, "file_bytes": size,
                "previous_status": extract.status, **(detail or {})}
        extract.recipient_key = None
        extract.status = "destroyed"
        extract.destroyed_at = ctx.now()
        extract.destroyed_reason = reason
        extract.destruction = {**(extract.destruction or {}), **what,
                               "destroyed_at": ctx.now().isoformat()}
        project_id = extract.project_id
        audit.record(session, ctx, caller, action="extract.destroyed", object_type="extract",
                     object_id=extract_id, project=project_id, detail=what)
        session.commit()
    if path is not None:
        shred_file(path)
    if reason in PURGING_REASONS:  # the project's pid-level results go with it
        purge_project(ctx, caller, project_id=project_id, reason=reason)
    return True


def destroy_project_extracts(ctx: HubContext, caller: Caller, *, project_id: str,
                             reason: str) -> list[str]:
    """Destroy every live extract of a project (revocation, closure); their ids."""
    with ctx.session_factory() as session:
        ids = [e.id for e in store.list_extracts(session, project_ids=[project_id],
                                                 statuses=LIVE)]
    destroyed = [i for i in ids if destroy_extract(ctx, caller, extract_id=i, reason=reason)]
    purge_project(ctx, caller, project_id=project_id, reason=reason)
    return destroyed


def _due(ctx: HubContext) -> list[tuple[str, str]]:
    with ctx.session_factory() as session:
        extracts = store.list_extracts(session, statuses=LIVE)
        projects = {r.id: r.status for r in request_store.list_requests(
            session, statuses=list(ENDED_PROJECT))}
    due = []
    for extract in extracts:
        status = projects.get(extract.project_id)
        if status is not None:
            due.append((extract.id, "revoked" if status == S.REVOKED else "expired"))
        elif ctx.now() >= extract.expires_at:
            due.append((extract.id, "expired"))
    return due


def _leftover_files(ctx: HubContext, caller: Caller) -> list[str]:
    with ctx.session_factory() as session:
        ended = store.list_extracts(session, statuses=["destroyed", "failed"])
        leftovers = [(e, p) for e in ended if (p := partial_file(ctx, e)).exists()]
        for extract, path in leftovers:
            audit.record(session, ctx, caller, action="extract.file_shredded",
                         object_type="extract", object_id=extract.id,
                         project=extract.project_id,
                         detail={"file": path.name, "bytes": path.stat().st_size})
        session.commit()
    for _, path in leftovers:
        shred_file(path)
    return [e.id for e, _ in leftovers]


def sweep(ctx: HubContext, caller: Caller = SWEEPER) -> dict[str, list[str]]:
    """Expire, destroy and clean up what is due, then start the refresh runs agreements
    scheduled (idempotent); what was done."""
    from hub.services.refresh import start_due_refreshes
    from hub.services.requests import expire_due

    with ctx.session_factory() as session:
        expired = expire_due(session, ctx, caller)
        purged_before = purge_store.purged_run_ids(session)
    destroyed = [extract_id for extract_id, reason in _due(ctx)
                 if destroy_extract(ctx, caller, extract_id=extract_id, reason=reason)]
    interrupted = settle_stranded(ctx, caller)
    shredded = _leftover_files(ctx, caller)
    _purge_ended(ctx, caller)
    with ctx.session_factory() as session:
        # Runs purged by this sweep: with a destroyed extract, or of an ended project.
        purged = sorted(purge_store.purged_run_ids(session) - purged_before)
    # After expiry, so a project whose term just ended is not refreshed; always as the
    # system (the agreement's schedule), whoever runs the sweep.
    refreshed = start_due_refreshes(ctx)
    return {"projects_expired": expired, "extracts_destroyed": destroyed,
            "extracts_interrupted": interrupted, "files_shredded": shredded,
            "runs_purged": purged, "refreshes_started": refreshed}


def _purge_ended(ctx: HubContext, caller: Caller) -> None:
    """Purge the linkage results of every expired, closed or revoked project."""
    with ctx.session_factory() as session:
        ended = [(r.id, "revoked" if r.status == S.REVOKED else "expired")
                 for r in request_store.list_requests(session, statuses=list(ENDED_PROJECT))]
    for project_id, reason in ended:
        purge_project(ctx, caller, project_id=project_id, reason=reason)


class ExtractSweeper:
    """Runs :func:`sweep` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, ctx: HubContext, *, interval: float) -> None:
        self._ctx, self._interval = ctx, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fedlink-extract-sweeper",
                                        daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                done = sweep(self._ctx)
                if any(done.values()):
                    log.info("extract sweep: %s", {k: len(v) for k, v in done.items()})
            except (HubError, SQLAlchemyError, OSError) as exc:
                log.warning("extract sweep failed (%s); trying again later",
                            type(exc).__name__)
            self._stop.wait(self._interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
