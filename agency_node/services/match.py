"""Match requests: stream this project's token batches as Arrow IPC, batch by batch.

Beyond :func:`~agency_node.services.gate.admit`: matching must be authorised (by the
steward and in the request), the requested variables, years, cohort and term must be
inside the approval, the project salt must be exactly 32 bytes (``bad_salt``) and the one
pinned for the project (the first accepted request pins it), and the request's project
terms must list the terms digest and term this agency's steward approved
(``terms_mismatch``); with a governance roster pinned, a quorum of it must have signed
those project terms (``no_governance_quorum``, ``governance_denied``); the keys are derived
from the salt, the project id and the project digest. Only records in the requested
years that meet the cohort are encoded. When the mapping has a person id, the stream
sends one row per agency person, built from the identity versions of its rows
(:mod:`agency_node.services.match_units`), in pid order — a permutation of its own per
project, so two projects' streams cannot be lined up by position
(:mod:`agency_node.services.unit_order`). The response holds pseudonymous ids, tokens
and Bloom filters only — the pseudonym of each unit sent is remembered so a later
extract can be checked against it. A large stream is encoded by one worker process per
CPU (:mod:`agency_node.services.parallel_encoding`), in order, a page at a time: memory
stays bounded whatever the stream's size, and progress is logged every
:data:`PROGRESS_EVERY_SECONDS` (counts and rates only). A request with
``resume_from_batch`` k continues an interrupted stream: the first k batches are passed
over unencoded (:meth:`~agency_node.services.match_units.UnitPages.skip`).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Final

import pyarrow as pa

from agency_node.errors import RefusedError
from agency_node.services import governance, scope
from agency_node.services.context import NodeServices
from agency_node.services.gate import Admitted, ReceivedBody, admit
from agency_node.services.match_units import IssuedUnit, UnitPages
from agency_node.services.parallel_encoding import (
    DEFAULT_CHUNK_SIZE,
    ColumnChunk,
    encode_column_batches_parallel,
)
from agency_node.store.approvals import get_approval, pin_salt, salt_owner
from agency_node.store.models import Approval
from agency_node.store.records import remember_issued_pids
from protocol.encoding import DEFAULT_BATCH_SIZE, token_batch_schema
from protocol.errors import BadSaltError
from protocol.keys import (
    ProjectKeys,
    derive_project_keys,
    person_pseudonymous_ids,
    project_salt_bytes,
    pseudonymous_ids,
)
from protocol.project import project_digest
from protocol.wire import MatchRequest

ARROW_STREAM = "application/vnd.apache.arrow.stream"
#: A stream's progress is logged at most this often (and when it ends).
PROGRESS_EVERY_SECONDS: Final = 10.0
log = logging.getLogger("agency_node.match")


@dataclass(frozen=True)
class MatchPlan:
    admitted: Admitted[MatchRequest]
    keys: ProjectKeys
    years: list[int]


def _check(services: NodeServices) -> Callable[[MatchRequest, Approval], None]:
    def check(request: MatchRequest, approval: Approval) -> None:
        requested = request.scope
        scope.require_matching(approval, requested=requested.matching_authorised)
        scope.require_variables(approval, requested.variables)
        scope.require_years(approval, requested.first_year, requested.last_year)
        scope.require_cohort(approval, requested.cohort)
        scope.require_term(approval, requested.term_start, requested.term_end)
        _require_canonical_salt(request)
        _require_own_terms(request, approval)
        governance.require_match_governance(
            services.runtime, project_id=request.project_id,
            digest=project_digest(request.project_terms), decisions=request.governance,
            now=services.now(), required=services.runtime.settings.governance_required)
        _require_pinned_salt(services, request)

    return check


def _require_canonical_salt(request: MatchRequest) -> bytes:
    """The salt's 32 bytes; any other length or spelling is ``bad_salt`` (422), so a hub
    cannot pass one key off as a "different" salt (``salt ‖ 0x00``, issue 13)."""
    try:
        return project_salt_bytes(request.project_salt)
    except BadSaltError as exc:
        raise RefusedError("bad_salt", str(exc), status=422) from None


def _require_own_terms(request: MatchRequest, approval: Approval) -> None:
    """The project terms the keys are bound to must list, for this agency, the digest its
    steward approved here, and the term the steward approved (``terms_mismatch``, 409)."""
    listed = request.project_terms.digest_for(request.agency)
    if listed != approval.terms_digest:
        raise RefusedError(
            "terms_mismatch", f"the project terms list another terms digest for "
            f"{request.agency} than the one this agency's steward approved", status=409)
    terms = request.project_terms
    if (terms.term_start.isoformat(), terms.term_end.isoformat()) != (
            approval.term_start, approval.term_end):
        raise RefusedError(
            "terms_mismatch", f"the project term {terms.term_start}..{terms.term_end} is not "
            f"the approved term {approval.term_start}..{approval.term_end}", status=409)


def _require_pinned_salt(services: NodeServices, request: MatchRequest) -> None:
    """First use pins the salt to the project; a salt serves one project only, so a hub
    cannot obtain two projects' tokens under one key and join them."""
    project_id = request.project_id
    with services.runtime.sessions() as session:
        owner = salt_owner(session, salt=request.project_salt)
        if owner is not None and owner != project_id:
            raise RefusedError("salt_mismatch", "this salt is pinned to another project",
                               status=409)
        pinned_now = pin_salt(session, project_id=project_id, salt=request.project_salt,
                              pinned_at=services.now().isoformat())
        session.commit()
        approval = get_approval(session, project_id=project_id)
    if approval is None or approval.salt != request.project_salt:
        raise RefusedError(
            "salt_mismatch",
            "the project salt differs from the one pinned for this project "
            f"on {approval.salt_pinned_at if approval else '?'}",
            status=409,
        )
    if pinned_now:
        services.runtime.audit.append(actor="node", typ="salt_pinned", outcome="pinned",
                                      project_id=project_id, now=services.now())


def authorise_match(services: NodeServices, body: ReceivedBody) -> MatchPlan:
    admitted = admit(services, body, MatchRequest, check=_check(services))
    request = admitted.request
    # Bound to the project id and the project-wide digest, not only the salt: two
    # projects never share keys whatever salt the hub sends (protocol.keys).
    keys = derive_project_keys(
        services.federation_secret(), project_salt_bytes(request.project_salt),
        project_id=request.project_id, project_digest=project_digest(request.project_terms),
    )
    years = list(range(request.scope.first_year, request.scope.last_year + 1))
    plan = MatchPlan(admitted=admitted, keys=keys, years=years)
    # Audited on admission, before a byte is sent: a node killed mid-stream (or a stream
    # whose closing event cannot be written) still has the request on its chain. A store
    # that cannot take this event refuses the request here (503 store_unavailable) rather
    # than answer it unaudited. The stream's end appends the outcome event.
    _audit(services, plan, outcome="accepted", reason="", counts=_no_counts())
    return plan


def _no_counts() -> dict[str, int]:
    return {"records": 0, "persons": 0, "rows": 0, "batches": 0}


def _audit(services: NodeServices, plan: MatchPlan, *, outcome: str, reason: str,
           counts: dict[str, int]) -> None:
    request = plan.admitted.request
    services.runtime.audit.append(
        actor=plan.admitted.actor, typ=MatchRequest.TYP, project_id=request.project_id,
        outcome=outcome, reason=reason, now=services.now(),
        # records: units sent (rows of the token stream); persons: those that are agency
        # persons; rows: the store rows they stand for.
        details={"run_id": request.run_id, "records": counts["records"],
                 "persons": counts["persons"], "rows": counts["rows"],
                 "batches": counts["batches"], "years": plan.years,
                 # Batches left out because the hub held them from an interrupted attempt.
                 "resumed_from": request.resume_from_batch,
                 "variables": list(request.scope.variables),
                 "key_check": plan.keys.key_check},
    )


class _Pages:
    """The stream's unit pages, read in one store session that stays open until
    :meth:`close` (opened on first use, so a stream that is not resumed reads nothing
    before its response has started)."""

    def __init__(self, services: NodeServices, plan: MatchPlan, page_size: int) -> None:
        self._services, self._plan, self._page_size = services, plan, page_size
        self._stack = ExitStack()
        self._pages: UnitPages | None = None

    def open(self) -> UnitPages:
        if self._pages is None:
            services, request = self._services, self._plan.admitted.request
            mapping = services.runtime.settings.node.mapping
            session = self._stack.enter_context(services.runtime.sessions())
            # A period column dates the rows when no year column does (ingest).
            years = self._plan.years if mapping.year_column or mapping.period_column else None
            self._pages = UnitPages(
                session, persons=bool(mapping.person_id), years=years,
                cohort=request.scope.cohort, page_size=self._page_size,
                record_pids=_pseudonyms(services, request, person=False),
                person_pids=_pseudonyms(services, request, person=True))
        return self._pages

    @property
    def units(self) -> int:
        """Units in the stream's order (before any cohort), once it has been computed."""
        return self._pages.units if self._pages is not None else 0

    def close(self) -> None:
        self._stack.close()


def _pseudonyms(services: NodeServices, request: MatchRequest, *,
                person: bool) -> Callable[[list[str]], list[str]]:
    # One call per page: the pseudonym key's HMAC state is set up once, not per unit.
    derive = person_pseudonymous_ids if person else pseudonymous_ids
    return lambda ids: derive(services.pseudonym_key, request.project_id, ids)


def stream_tokens(
    services: NodeServices, plan: MatchPlan, *, batch_size: int = DEFAULT_BATCH_SIZE,
    on_units: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Arrow IPC stream bytes, one chunk per batch; audits the outcome when it ends
    (``answered``, ``failed`` or ``aborted``; ``accepted`` was audited on admission).

    Batches hold at most ``min(batch_size, DEFAULT_CHUNK_SIZE)`` units: one store page
    each. A resumed request (``resume_from_batch`` k > 0) passes over the first k batches
    here, before the response starts — read in the same order, never encoded, sent or
    remembered again (each was remembered before it was first sent) — and is refused with
    ``bad_resume`` (409, audited ``refused``) when the stream has fewer than k batches.
    ``on_units`` is told how many units each batch sent holds (the node's metrics)."""
    request = plan.admitted.request
    pages = _Pages(services, plan, min(batch_size, DEFAULT_CHUNK_SIZE))
    held = request.resume_from_batch
    if held:
        try:
            passed = pages.open().skip(held)
        except BaseException:
            pages.close()
            raise
        if passed < held:
            pages.close()
            _audit(services, plan, outcome="refused", reason="bad_resume",
                   counts=_no_counts())
            raise RefusedError(
                "bad_resume", f"resume_from_batch {held} is past the end of this stream "
                f"({passed} batches)", status=409)
    return _send(services, plan, pages, on_units)


def _send(services: NodeServices, plan: MatchPlan, pages: _Pages,
          on_units: Callable[[int], None] | None) -> Iterator[bytes]:
    request = plan.admitted.request
    issued: list[IssuedUnit] = []
    counts = _no_counts()
    progress = _Progress(request, pages)

    def chunks() -> Iterator[ColumnChunk]:
        for page in pages.open():
            issued.extend(page.units)
            yield page.chunk

    def remember(rows: int) -> None:
        # Units are read ahead of the batch being sent (other chunks are being encoded):
        # remember exactly this batch's pids, which are the oldest ones issued.
        sent = issued[:rows]
        with services.runtime.sessions() as session:
            # Idempotent (a pid already remembered is kept), so a resumed stream that
            # sends a unit again would do no harm; it does not, by construction.
            remember_issued_pids(session, project_id=request.project_id,
                                 pairs=[(u.pid, u.record_pk) for u in sent])
            session.commit()
        counts["records"] += len(sent)
        counts["persons"] += sum(u.person for u in sent)
        counts["rows"] += sum(u.rows for u in sent)
        del issued[:rows]

    sink = io.BytesIO()
    outcome, reason = "aborted", "client_disconnected"
    try:
        with pa.ipc.new_stream(sink, token_batch_schema()) as writer:
            for batch in encode_column_batches_parallel(chunks(), plan.keys):
                # Remember before sending: a pid reaches the hub only once it is recorded.
                remember(batch.num_rows)
                writer.write_batch(batch)
                counts["batches"] += 1
                progress.sent(counts)
                if on_units is not None:
                    on_units(batch.num_rows)
                yield _drain(sink)
        yield _drain(sink)
        outcome, reason = "answered", ""
    except Exception as exc:
        # GeneratorExit (the client went away) is not an Exception: it stays "aborted".
        outcome, reason = "failed", type(exc).__name__
        log.error("match stream for project %s failed: %s", request.project_id, reason)
        raise
    finally:
        progress.ended(counts, outcome)
        pages.close()
        _audit(services, plan, outcome=outcome, reason=reason, counts=counts)


class _Progress:
    """Log lines of a long stream's progress: project, run, batches and units sent, rate
    and share of the stream — counts only, never a pid or an identity value."""

    def __init__(self, request: MatchRequest, pages: _Pages) -> None:
        self._request, self._pages = request, pages
        self._started = self._last = time.monotonic()

    def sent(self, counts: dict[str, int]) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_SECONDS:
            self._last = now
            self._log("sending", counts, now)

    def ended(self, counts: dict[str, int], outcome: str) -> None:
        now = time.monotonic()
        if now - self._started >= PROGRESS_EVERY_SECONDS:  # only streams that took a while
            self._log(outcome, counts, now)

    def _log(self, state: str, counts: dict[str, int], now: float) -> None:
        request = self._request
        total = self._pages.units
        seconds = max(now - self._started, 1e-9)
        resumed = (f" after the {request.resume_from_batch} batches the hub held"
                   if request.resume_from_batch else "")
        log.info("match stream for project %s run %s %s: %d units in %d batches sent%s, "
                 "of %d units in all; %.0f units/s over %.0f s",
                 request.project_id, request.run_id, state, counts["records"],
                 counts["batches"], resumed, total, counts["records"] / seconds, seconds)


def _drain(sink: io.BytesIO) -> bytes:
    data = sink.getvalue()
    sink.seek(0)
    sink.truncate()
    return data
