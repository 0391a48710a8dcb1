"""Settling extracts stranded ``building`` by a dead assembler (docs/operations.md).

An extract is ``building`` exactly while its ``extract_build`` job is ``queued`` or
``running``: the API records both in one transaction, and the assembler settles the extract
(``available``/``held``/``failed``) before it settles the job. A killed assembler leaves its
job ``running`` until the lease runs out; :func:`hub.persistence.jobs.reclaim_expired` then
requeues it (another attempt, bounded by the job's ``max_attempts``) or ends it ``failed``.

:func:`settle_stranded` — run by every sweep and before every assembler claim — first
reclaims expired leases, then ends every ``building`` extract whose job is no longer
``queued`` or ``running`` (attempts used up, cancelled, or gone) ``failed`` with code
``interrupted`` (audited ``extract.failed``), and shreds the partial ``<id>.flx`` the dead
attempt left behind. A ``building`` extract with a live job is never touched, so this is
safe to run while assemblers work; running it twice does nothing the second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from sqlalchemy import select

from hub.db.models import Extract, Job
from hub.domain.roles import Caller
from hub.extracts.crypto import shred_file
from hub.persistence import extracts as store
from hub.persistence import jobs as job_store
from hub.services import audit
from hub.services.context import HubContext

JOB_KIND: Final = "extract_build"  # hub.services.extract_build.JOB_KIND
INTERRUPTED: Final = "interrupted"


def partial_file(ctx: HubContext, extract: Extract) -> Path:
    """Where an attempt writes the bundle of ``extract`` (before it records its name)."""
    directory = Path(ctx.settings.extracts_dir or ctx.settings.dir / "extracts")
    return directory / (extract.file_name or f"{extract.id}.flx")


def _jobs_by_extract(ctx: HubContext) -> dict[str, Job]:
    """The newest ``extract_build`` job of each extract (by its payload's extract id)."""
    with ctx.session_factory() as session:
        rows = session.scalars(select(Job).where(Job.kind == JOB_KIND).order_by(Job.id))
        return {str(job.payload.get("extract_id")): job for job in rows}


def settle_stranded(ctx: HubContext, caller: Caller) -> list[str]:
    """Fail the ``building`` extracts no live job will finish; their ids."""
    with ctx.session_factory() as session:
        job_store.reclaim_expired(session, now=ctx.now())
        session.commit()
        building = [e.id for e in store.list_extracts(session, statuses=["building"])]
    if not building:
        return []
    by_extract = _jobs_by_extract(ctx)
    settled = []
    for extract_id in building:
        job = by_extract.get(extract_id)
        if job is not None and job.status in ("queued", "running"):
            continue
        with ctx.session_factory() as session:
            extract = store.get_extract(session, extract_id=extract_id, lock=True)
            if extract is None or extract.status != "building":
                continue  # settled meanwhile
            why = job.error if job is not None and job.error else "its build job is gone"
            reason = f"the assembler stopped while building it: {why}"[:1000]
            extract.status, extract.finished_at = "failed", ctx.now()
            extract.failure_code, extract.failure_reason = INTERRUPTED, reason
            path = partial_file(ctx, extract)
            audit.record(session, ctx, caller, action="extract.failed",
                         outcome=f"refused:{INTERRUPTED}", object_type="extract",
                         object_id=extract_id, project=extract.project_id,
                         detail={"code": INTERRUPTED, "reason": reason,
                                 "attempts": job.attempts if job is not None else 0,
                                 "partial_file_bytes": path.stat().st_size
                                 if path.exists() else 0})
            session.commit()
        shred_file(path)
        settled.append(extract_id)
    return settled
