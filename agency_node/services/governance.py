"""Governance the node verifies itself (docs/agency-node.md, "Governance at the node").

* **The roster.** Version 1 is pinned at enrollment (:func:`pin_roster`; its fingerprint is
  printed so the agency can compare it out of band, or checked against one given on the
  command line). Later versions are accepted only when signed by a quorum of the version
  before (:func:`apply_roster_updates`, :func:`protocol.governance.advance_roster`); the
  hub relays them but cannot forge one.
* **Quorum before data.** A match request carries the members' signed decisions; the node
  answers only when a quorum of its current roster approved exactly the project digest the
  request's project terms hash to — terms that list the digest its own steward approved
  (checked in :mod:`agency_node.services.match`). The verified decisions are stored, and an
  extract request needs them still to meet the quorum of the current roster.
* **Revocations** signed by one roster member or by this agency's steward (the node key
  or a registered steward key) are recorded (:func:`accept_revocation`), pushed by the hub
  or pulled on a schedule (:class:`GovernancePoller`); from then on the project is refused
  (``revoked``) and its issued pseudonyms are purged.

With no roster pinned the node is **fail-closed**: it refuses every match and extract
request with ``no_roster`` (:data:`NO_ROSTER_HINT` tells the operator what to run).
``FEDLINK_NODE_GOVERNANCE_REQUIRED=false`` is the explicit, unsafe opt-out: the node then
enforces its steward's approval only and trusts the hub's word on governance.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from agency_node import keys
from agency_node.errors import NodeError, RefusedError
from agency_node.runtime import NodeRuntime
from agency_node.store import governance as store
from protocol.errors import ProtocolError
from protocol.governance import (
    GovernanceError,
    Roster,
    advance_roster,
    require_quorum,
    roster_digest,
    verify_genesis,
    verify_revocation,
)
from protocol.keyfiles import key_id
from protocol.signing import SignedEnvelope

log = logging.getLogger("agency_node.governance")


class GovernanceRefusedError(NodeError):
    """A roster or revocation this node will not accept (CLI and the push endpoint)."""

    code = "governance_refused"
    status = 422


def _envelopes(items: Iterable[Any]) -> list[SignedEnvelope]:
    try:
        return [i if isinstance(i, SignedEnvelope) else SignedEnvelope.model_validate(i)
                for i in items]
    except ValueError as exc:
        raise GovernanceRefusedError(f"not a signed statement: {type(exc).__name__}") from None


def current_roster(runtime: NodeRuntime) -> Roster | None:
    """The newest roster this node accepted, or None before one is pinned."""
    with runtime.sessions() as session:
        row = store.latest_roster(session)
        return None if row is None else Roster.model_validate(row.roster)


def pin_roster(runtime: NodeRuntime, signatures: Sequence[Any], *, fingerprint: str | None,
               now: dt.datetime) -> Roster:
    """Pin roster version 1 (signed by a quorum of its own members). Pinning the same
    roster again is a no-op; another one is refused — the pin never moves."""
    envelopes = _envelopes(signatures)
    try:
        roster = verify_genesis(envelopes, fingerprint=fingerprint)
    except ProtocolError as exc:
        raise GovernanceRefusedError(str(exc), code=exc.reason) from None
    digest = roster_digest(roster)
    with runtime.sessions() as session:
        pinned = store.first_roster(session)
        if pinned is not None:
            if pinned.digest != digest:
                raise GovernanceRefusedError(
                    "another governance roster is already pinned on this node",
                    code="roster_chain_broken")
            return Roster.model_validate(pinned.roster)
        store.add_roster(session, version=1, digest=digest,
                         roster=roster.model_dump(mode="json"),
                         signatures=[e.model_dump(mode="json") for e in envelopes],
                         accepted_at=now.isoformat())
        session.commit()
    runtime.audit.append(actor="node", typ="governance_roster", outcome="pinned",
                         details={"version": 1, "digest": digest, "quorum": roster.quorum,
                                  "members": len(roster.members)}, now=now)
    return roster


def apply_roster_updates(runtime: NodeRuntime, chain: Sequence[Sequence[Any]], *,
                         now: dt.datetime) -> Roster | None:
    """Accept, in order, the signed roster versions after the current one; versions this
    node already holds are skipped. The first invalid one stops the walk and is refused
    (``roster_not_quorum`` / ``roster_chain_broken``), audited; earlier ones stay."""
    current = current_roster(runtime)
    if current is None:
        return None
    for signatures in chain:
        envelopes = _envelopes(signatures)
        if not envelopes:
            continue
        version = envelopes[0].body.get("version")
        if isinstance(version, int) and version <= current.version:
            continue
        try:
            current = advance_roster(current, envelopes)
        except ProtocolError as exc:
            # Not audited: anyone who reaches the endpoint could otherwise grow the
            # permanent chain with junk; a refused version changes nothing here.
            log.warning("refused a governance roster version: %s", exc.reason)
            raise GovernanceRefusedError(str(exc), code=exc.reason) from None
        with runtime.sessions() as session:
            store.add_roster(session, version=current.version, digest=roster_digest(current),
                             roster=current.model_dump(mode="json"),
                             signatures=[e.model_dump(mode="json") for e in envelopes],
                             accepted_at=now.isoformat())
            session.commit()
        runtime.audit.append(actor="hub", typ="governance_roster", outcome="accepted",
                             details={"version": current.version, "quorum": current.quorum,
                                      "members": len(current.members)}, now=now)
    return current


def require_not_revoked(runtime: NodeRuntime, project_id: str) -> None:
    with runtime.sessions() as session:
        revoked = store.get_revocation(session, project_id=project_id)
    if revoked is not None:
        raise RefusedError("revoked", f"project {project_id} was revoked on "
                           f"{revoked.revoked_at} by {revoked.signer_kid}")


def _refuse(exc: ProtocolError) -> RefusedError:
    code = exc.reason if isinstance(exc, GovernanceError) else "no_governance_quorum"
    return RefusedError(code, str(exc))


#: What an operator runs to pin the roster; in the refusal and in `fedlink node serve`'s
#: start-up warning.
NO_ROSTER_HINT = ("no governance roster is pinned on this node, so it refuses every match "
                  "and extract request: run `fedlink node roster-sync --roster-fingerprint FP` "
                  "(or enroll with `fedlink node enroll --roster-fingerprint FP`), FP being the "
                  "roster fingerprint the governance members gave you out of band")


def no_roster_refusal() -> RefusedError:
    """Fail closed: no roster pinned, and the operator did not opt out."""
    return RefusedError("no_roster", NO_ROSTER_HINT)


def startup_warning(runtime: NodeRuntime) -> str | None:
    """The one line `fedlink node serve` prints at start when no roster is pinned."""
    if current_roster(runtime) is not None:
        return None
    if runtime.settings.governance_required:
        return f"warning: {NO_ROSTER_HINT}"
    return ("warning: no governance roster is pinned and FEDLINK_NODE_GOVERNANCE_REQUIRED="
            "false: this node enforces its steward's approval only and trusts the hub's word "
            "on governance (unsafe); run `fedlink node roster-sync --roster-fingerprint FP`")


def require_match_governance(runtime: NodeRuntime, *, project_id: str, digest: str,
                             decisions: Sequence[SignedEnvelope], now: dt.datetime,
                             required: bool) -> None:
    """A quorum of the current roster approved ``digest``; the decisions are stored for
    later extract requests. Without a roster: refused (``no_roster``) unless the operator
    opted out (``required`` False — the node then trusts the hub's word on governance)."""
    roster = current_roster(runtime)
    if roster is None:
        if required:
            raise no_roster_refusal()
        return
    try:
        quorum = require_quorum(roster, decisions, project_id=project_id, digest=digest)
    except ProtocolError as exc:
        raise _refuse(exc) from None
    with runtime.sessions() as session:
        store.save_governance_approval(
            session, project_id=project_id, project_digest=digest,
            roster_version=quorum.roster_version,
            decisions=[d.model_dump(mode="json") for d in decisions
                       if d.kid in quorum.approvers],
            verified_at=now.isoformat())
        session.commit()


def require_stored_governance(runtime: NodeRuntime, *, project_id: str, required: bool) -> None:
    """For extract requests: the decisions stored at match time still meet the quorum of
    the *current* roster (a member removed since no longer counts). Without a roster:
    as :func:`require_match_governance`."""
    roster = current_roster(runtime)
    if roster is None:
        if required:
            raise no_roster_refusal()
        return
    with runtime.sessions() as session:
        row = store.get_governance_approval(session, project_id=project_id)
        stored = None if row is None else (row.project_digest, list(row.decisions))
    if stored is None:
        raise RefusedError("no_governance_quorum",
                           f"no governance quorum was verified here for project {project_id}")
    try:
        require_quorum(roster, _envelopes(stored[1]), project_id=project_id, digest=stored[0])
    except ProtocolError as exc:
        raise _refuse(exc) from None


def accept_revocation(runtime: NodeRuntime, signed: Any, *, now: dt.datetime) -> bool:
    """Verify and record a revocation (a roster member's, or this agency's steward's —
    the node key), then purge the project's issued pseudonyms. True when it is new."""
    envelope = _envelopes([signed])[0]
    project_id = str(envelope.body.get("project_id", ""))
    from agency_node.services.stewards import registered

    node = keys.load_signing_key(runtime.settings.dir).public_key()
    stewards = {key_id(node): node, **registered(runtime)}
    try:
        body = verify_revocation(envelope, roster=current_roster(runtime), stewards=stewards,
                                 project_id=project_id)
    except ProtocolError as exc:
        # Not audited (see apply_roster_updates): an unverified statement changes nothing.
        log.warning("refused a revocation: %s", exc.reason)
        raise GovernanceRefusedError(str(exc), code=exc.reason) from None
    with runtime.sessions() as session:
        new = store.add_revocation(session, project_id=body.project_id, signer_kid=envelope.kid,
                                   reason=body.reason[:2000],
                                   revoked_at=body.revoked_at.isoformat(),
                                   received_at=now.isoformat(),
                                   envelope=envelope.model_dump(mode="json"))
        session.commit()
    if new:
        runtime.audit.append(actor=envelope.kid, typ="project_revocation", outcome="revoked",
                             project_id=body.project_id, reason="revoked",
                             details={"revoked_at": body.revoked_at.isoformat()}, now=now)
        from agency_node.services.purge import purge_project

        purge_project(runtime, project_id=body.project_id, reason="revoked", now=now)
    return new


class GovernancePoller:
    """Pulls roster updates and revocations from the hub now and every ``interval``
    seconds in a daemon thread (``fetch`` returns the hub's answer; errors are logged)."""

    def __init__(self, runtime: NodeRuntime, *, interval: float,
                 fetch: Callable[[], dict[str, Any]],
                 clock: Callable[[], dt.datetime]) -> None:
        self.runtime, self.interval, self.fetch, self.clock = runtime, interval, fetch, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        """One pull: roster updates first (a revocation may be by a newly added member);
        the number of new revocations recorded."""
        answer = self.fetch()
        now = self.clock()
        apply_roster_updates(self.runtime, answer.get("roster_updates", []), now=now)
        new = 0
        for signed in answer.get("revocations", []):
            try:
                new += accept_revocation(self.runtime, signed, now=now)
            except GovernanceRefusedError as exc:
                log.warning("ignored a revocation the hub relayed: %s", exc.code)
        return new

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # the poller must outlive a hub outage
                log.warning("governance pull failed: %s", type(exc).__name__)
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="governance-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def governance_poller(runtime: NodeRuntime, services: Any) -> GovernancePoller | None:
    """The poller ``fedlink node serve`` runs, or None when the node has no hub to ask."""
    from agency_node.hub_client import HubClient

    settings = runtime.settings
    if not settings.hub_url:
        return None
    try:
        token = keys.load_hub_token(settings.dir)
    except NodeError:
        return None

    def fetch() -> dict[str, Any]:
        with HubClient(settings.hub_url, token=token,
                       ca_file=settings.hub_ca_file or None) as client:
            return client.fetch_governance()

    return GovernancePoller(runtime, interval=settings.governance_poll_seconds, fetch=fetch,
                            clock=services.now)


def sync_from_hub(runtime: NodeRuntime, answer: dict[str, Any], *, fingerprint: str | None,
                  now: dt.datetime) -> Roster | None:
    """Pin roster version 1 from the hub's chain if none is pinned yet (checked against
    ``fingerprint`` when given), then follow the later versions and record revocations.
    None when neither this node nor the hub has a roster."""
    versions = answer.get("roster_updates", [])
    if not isinstance(versions, list):
        raise GovernanceRefusedError("the hub's governance answer is not a list of versions")
    if current_roster(runtime) is None:
        if not versions:
            if fingerprint:
                raise GovernanceRefusedError(
                    "the hub has no governance roster, but a fingerprint was given; "
                    "nothing was pinned", code="roster_chain_broken")
            return None
        pin_roster(runtime, versions[0], fingerprint=fingerprint, now=now)
    elif fingerprint:
        with runtime.sessions() as session:
            first = store.first_roster(session)
        if first is not None and first.digest != fingerprint.replace("-", "").lower():
            raise GovernanceRefusedError("another governance roster is pinned on this node",
                                         code="roster_chain_broken")
    roster = apply_roster_updates(runtime, versions[1:], now=now)
    for signed in answer.get("revocations", []):
        accept_revocation(runtime, signed, now=now)
    return roster
