"""Purging a project's pid-level linkage results at the end of its life (docs/extracts.md,
"Purge at end of life").

While a project lives, the hub keeps each run's clusters (agency, pid → person cluster) and
links (pid pairs): an extract is built from them. After that they serve nobody but an
attacker holding the hub, who could tie an extract's people back to pids and — with a
node's issued-pid map — to records. So :func:`purge_project` deletes them for every
finished run of the project, with one ``linkage.purged`` audit event and one
``linkage_purges`` row per run (counts only). It runs

* when the project is revoked (with its extracts' destruction),
* when an extract is destroyed because its term ended, the project was revoked, or the
  researcher certified destruction, and
* in every sweep, for every expired (or closed) and revoked project.

It is idempotent: a purged run is skipped. A run still queued or running is left alone and
purged by the next sweep after it ends. Nothing pid-level has to stay for audit (the run's
counts and quality report hold no pid), so rows are deleted rather than crypto-shredded.
"""

from __future__ import annotations

from typing import Any, Final

from hub.domain.roles import Caller
from hub.persistence import purge as store
from hub.persistence import runs as run_store
from hub.services import audit
from hub.services.context import HubContext

#: Extract destruction reasons after which the extract's run is no longer needed.
PURGING_REASONS: Final = frozenset({"expired", "revoked", "certified"})


def purge_project(ctx: HubContext, caller: Caller, *, project_id: str,
                  reason: str) -> list[dict[str, Any]]:
    """Purge every finished, not yet purged run of ``project_id``; what was purged."""
    done = []
    with ctx.session_factory() as session:
        purged = store.purged_run_ids(session, project_id=project_id)
        for run in run_store.list_runs(session, project_id=project_id):
            if run.id in purged or run.status in run_store.ACTIVE:
                continue
            row = store.purge_run(session, run=run, reason=reason, now=ctx.now())
            detail = {"reason": reason, "clusters": row.clusters, "links": row.links}
            audit.record(session, ctx, caller, action="linkage.purged", object_type="run",
                         object_id=run.id, project=project_id, detail=detail)
            done.append({"run_id": run.id, **detail})
        session.commit()
    return done
