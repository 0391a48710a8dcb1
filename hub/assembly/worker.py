"""``fedlink hub assembler``: claims ``extract_build`` jobs and builds each extract.

The API records an extract ``building`` and queues a job; an assembler (any number may
share one database) claims it under a lease (``lease_seconds``, default 60), renews the
lease every third of it while it asks the nodes (:class:`~hub.services.jobs.
LeaseHeartbeat`), and builds the extract with :func:`hub.assembly.build.assemble_extract`.
A build that fails is recorded on the extract (``failed``, with its code) and not retried;
the researcher asks again. An assembler killed mid-build stops renewing: once the lease
runs out the job is requeued and another attempt (any assembler) shreds the partial file
and builds again, up to ``MAX_BUILD_ATTEMPTS`` claims; then the extract ends ``failed``
(``interrupted``) — :func:`hub.services.extract_recovery.settle_stranded`, run before every
claim and by the hub's sweep.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session

from hub.assembly.build import assemble_extract, assembler_caller
from hub.assembly.context import AssemblyContext
from hub.errors import HubError
from hub.node_client import make_node_http_client
from hub.persistence import jobs
from hub.persistence.jobs import ClaimedJob, LeaseLostError
from hub.services.extract_build import JOB_KIND
from hub.services.extract_recovery import settle_stranded
from hub.services.jobs import JobQueue, LeaseHeartbeat

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

    def run_once(self) -> bool:
        """Build one queued extract; False when there was none."""
        settle_stranded(self.actx.hub, assembler_caller(self.worker_id))
        lease = self.actx.settings.lease_seconds
        job = self.queue.claim(self.worker_id, [JOB_KIND], lease_seconds=lease)
        if job is None:
            return False
        heartbeat = LeaseHeartbeat(self.queue, job, lease, threading.Event())
        heartbeat.start()
        try:
            self._build(job)
        finally:
            heartbeat.finish()
        if heartbeat.lost:
            log.warning("job %s: lease lost during the build; another attempt owns it", job.id)
        return True

    def _build(self, job: ClaimedJob) -> None:
        extract_id = str(job.payload.get("extract_id", ""))
        try:
            with make_node_http_client(self.actx.hub.settings,
                                       transport=self._transport) as client:
                extract = assemble_extract(self.actx, assembler_caller(self.worker_id),
                                           extract_id=extract_id, client=client,
                                           fence=self._fence(job))
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

    def _fence(self, job: ClaimedJob) -> Callable[[Session], bool]:
        """Whether ``job`` is still this attempt's, checked (and the lease renewed) inside
        the transaction that records the built extract."""
        def held(session: Session) -> bool:
            try:
                jobs.heartbeat(session, job=job, now=self.actx.hub.now(),
                               lease_seconds=self.actx.settings.lease_seconds)
            except LeaseLostError:
                return False
            return True
        return held

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
