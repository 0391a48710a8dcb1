"""``fedlink hub assembler``: claims ``extract_build`` jobs and builds each extract.

The API records an extract ``building`` and queues a job; an assembler (any number may
share one database) claims it under a lease, renews the lease while it asks the nodes, and
builds the extract with :func:`hub.assembly.build.assemble_extract`. The lease
(``lease_seconds``, default 600) must outlast the longest build; there is no heartbeat.
The job is tried once:
a failure is recorded on the extract (``failed``, with its code), and the researcher asks
again. An extract whose assembler died stays ``building`` until its job's lease runs out;
the next claim then ends both ``failed`` ("interrupted").
"""

from __future__ import annotations

import logging
import os
import socket
import threading

import httpx

from hub.assembly.build import assemble_extract, assembler_caller
from hub.assembly.context import AssemblyContext
from hub.errors import HubError
from hub.node_client import make_node_http_client
from hub.persistence import extracts as store
from hub.persistence.jobs import ClaimedJob, LeaseLostError
from hub.services.extract_build import JOB_KIND
from hub.services.jobs import JobQueue

log = logging.getLogger("hub.assembler")


def default_worker_id() -> str:
    return f"assembler:{socket.gethostname()[:60]}:{os.getpid()}"


class Assembler:
    def __init__(self, actx: AssemblyContext, *, worker_id: str | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.actx = actx
        self._transport = transport  # tests route the node requests in process
        self.worker_id = worker_id or default_worker_id()
        hub = actx.hub
        self.queue = JobQueue(hub.session_factory, clock=hub.now)

    def _interrupted(self) -> None:
        """Extracts whose assembler died (job lease ran out, no attempt left): failed."""
        for reclaimed in self.queue.reclaim_expired():
            status = self.queue.status(reclaimed.id)
            if status is None or status["kind"] != JOB_KIND or reclaimed.status != "failed":
                continue
            with self.actx.hub.session_factory.begin() as session:
                for extract in store.list_extracts(
                        session, project_ids=[str(status["project_id"])],
                        statuses=["building"]):
                    extract.status, extract.finished_at = "failed", self.actx.hub.now()
                    extract.failure_code = "interrupted"
                    extract.failure_reason = "the assembler stopped while building it"

    def run_once(self) -> bool:
        """Build one queued extract; False when there was none."""
        self._interrupted()
        job = self.queue.claim(self.worker_id, [JOB_KIND],
                               lease_seconds=self.actx.settings.lease_seconds)
        if job is None:
            return False
        extract_id = str(job.payload.get("extract_id", ""))
        try:
            with make_node_http_client(self.actx.hub.settings,
                                       transport=self._transport) as client:
                extract = assemble_extract(self.actx, assembler_caller(self.worker_id),
                                           extract_id=extract_id, client=client)
        except HubError as exc:
            log.warning("extract %s failed: %s", extract_id, exc.code)
            self._settle(job, failure=exc.code)
        except Exception as exc:  # a bug: the extract is failed; keep serving others
            log.exception("extract %s failed (%s)", extract_id, type(exc).__name__)
            self._settle(job, failure="internal_error")
        else:
            status = extract.status if extract is not None else "skipped"
            log.info("extract %s %s", extract_id, status)
            self._settle(job, result={"extract_id": extract_id, "status": status})
        return True

    def _settle(self, job: ClaimedJob, *, failure: str | None = None,
                result: dict[str, str] | None = None) -> None:
        try:
            if failure is None:
                self.queue.complete(job, result=result)
            else:
                self.queue.fail(job, failure)
        except LeaseLostError:
            log.warning("job %s: lease lost before it was settled", job.id)

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self.run_once():
                stop.wait(self.actx.settings.poll_seconds)
