"""Governance statements signed by the members' own keys (docs/hub.md, "Governance keys").

The hub verifies and keeps what members sign — it cannot sign for them — and relays it:

* members register their Ed25519 public key under their own token (:func:`register_key`);
* the roster chain (:func:`submit_roster`): version 1 signed by a quorum of its own
  members, every later version by a quorum of the version before
  (:mod:`protocol.governance`); nodes pin version 1 and verify every step themselves;
* signed reviews (:func:`signed_review`) over the project-wide terms
  (:func:`hub.services.terms.request_project_terms`), which also count as the member's
  review under the hub's own approval rule (:mod:`hub.domain.approval`); once a roster
  exists an *approval* is accepted only signed (``signature_required``);
* signed revocations (:func:`signed_revocation`): one roster member suffices; the hub
  revokes the request, pushes the revocation to every node of the project, and serves it
  to nodes that pull (:func:`node_governance`).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.roles import Caller
from hub.errors import ConflictError, DecisionRefusedError, HubError, InvalidInputError
from hub.persistence import agencies as agency_store
from hub.persistence import governance as store
from hub.persistence import requests as request_store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.requests import visible_request
from hub.services.terms import load_dsa, request_project_terms
from protocol.canonical import parse_json
from protocol.errors import ProtocolError
from protocol.governance import (
    GovernanceDecision,
    Revocation,
    Roster,
    advance_roster,
    roster_digest,
    verify_genesis,
    verify_revocation,
    verify_statement,
)
from protocol.keyfiles import ed25519_public_from_b64, key_id
from protocol.project import project_digest
from protocol.signing import SignedEnvelope, describe_validation_error

log = logging.getLogger("hub.governance")


def _refused(message: str, code: str, status: int = 422) -> DecisionRefusedError:
    return DecisionRefusedError(message, code=code, status=status)


def _envelope(data: Any) -> SignedEnvelope:
    try:
        return SignedEnvelope.model_validate(data)
    except ValidationError as exc:
        raise _refused(f"not a signed statement: {describe_validation_error(exc)}",
                       "malformed_message") from None


def _json(body: bytes) -> Any:
    try:
        return parse_json(body)
    except ValueError as exc:
        raise _refused(f"the body is not JSON: {exc}", "malformed_message") from None


def current_roster(session: Session) -> Roster | None:
    row = store.latest_roster(session)
    return None if row is None else Roster.model_validate(row.roster)


def roster_chain(session: Session) -> list[list[dict[str, Any]]]:
    """Every roster version's signatures, oldest first (what nodes verify)."""
    return [list(row.signatures) for row in store.rosters(session)]


def register_key(session: Session, ctx: HubContext, caller: Caller, *,
                 public_key: str) -> dict[str, str]:
    """Register the caller's own governance public key (raw base64url)."""
    assert caller.principal is not None and caller.principal.id is not None
    try:
        kid = key_id(ed25519_public_from_b64(public_key))
    except ProtocolError as exc:
        raise InvalidInputError(f"public_key: {exc}") from None
    existing = store.get_key(session, kid=kid)
    if existing is not None and existing.user_id != caller.principal.id:
        audit.refuse(session, ctx, caller, ConflictError(
            "this key is registered to another member", code="key_taken"),
            action="governance.key_refused", object_type="governance_key", object_id=kid)
    if existing is None:
        store.add_key(session, kid=kid, user_id=caller.principal.id, public_key=public_key)
        audit.record(session, ctx, caller, action="governance.key_registered",
                     object_type="governance_key", object_id=kid)
        session.commit()
    return {"kid": kid, "public_key": public_key}


def submit_roster(session: Session, ctx: HubContext, caller: Caller, *,
                  body: bytes) -> dict[str, Any]:
    """Accept the next roster version (``{"signatures": [signed roster, …]}``)."""
    data = _json(body)
    items = data.get("signatures") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise _refused("expected {\"signatures\": [signed roster, …]}", "malformed_message")
    envelopes = [_envelope(item) for item in items]
    current = current_roster(session)
    try:
        roster = (verify_genesis(envelopes, fingerprint=None) if current is None
                  else advance_roster(current, envelopes))
    except ProtocolError as exc:
        audit.refuse(session, ctx, caller, _refused(str(exc), exc.reason),
                     action="governance.roster_refused", object_type="governance_roster",
                     object_id=str(envelopes[0].body.get("version", "?"))[:20])
    digest = roster_digest(roster)
    store.add_roster(session, version=roster.version, digest=digest,
                     roster=roster.model_dump(mode="json"),
                     signatures=[e.model_dump(mode="json") for e in envelopes])
    audit.record(session, ctx, caller, action="governance.roster", object_type="governance_roster",
                 object_id=str(roster.version),
                 detail={"digest": digest, "quorum": roster.quorum,
                         "members": [m.kid for m in roster.members],
                         "signers": sorted({e.kid for e in envelopes})})
    session.commit()
    return {"version": roster.version, "digest": digest, "quorum": roster.quorum}


def verify_signed_review(session: Session, caller: Caller, request: Request,
                         body: bytes) -> tuple[SignedEnvelope, GovernanceDecision]:
    """The caller's own signed decision over the request's current project terms, by a
    member of the current roster (when one exists); no state is changed."""
    assert caller.principal is not None and caller.principal.id is not None
    envelope = _envelope(_json(body))
    mine = {k.kid: ed25519_public_from_b64(k.public_key)
            for k in store.keys_of(session, user_id=caller.principal.id)}
    if envelope.kid not in mine:
        raise _refused("the decision is not signed by a key registered to you "
                       "(`fedlink review register-key`)", "not_your_key", 403)
    try:
        verify_statement(envelope, keyring=mine, typ=GovernanceDecision.TYP)
        decision = GovernanceDecision.model_validate(envelope.body)
    except ProtocolError as exc:
        raise _refused(str(exc), exc.reason, 401 if exc.reason == "bad_signature" else 422) \
            from None
    except ValidationError as exc:
        raise _refused(describe_validation_error(exc), "malformed_message") from None
    if decision.project_id != request.id:
        raise _refused("the decision names another project", "project_mismatch")
    if decision.project_digest != project_digest(request_project_terms(request)):
        raise _refused("the decision signs terms that are not the request's current terms; "
                       "fetch them again", "stale_terms", 409)
    roster = current_roster(session)
    if roster is not None and envelope.kid not in roster.keyring():
        raise _refused(f"key {envelope.kid} is not in governance roster version "
                       f"{roster.version}", "not_a_member", 403)
    return envelope, decision


def record_signed_review(session: Session, *, request: Request, round_: int,
                         envelope: SignedEnvelope, decision: GovernanceDecision) -> None:
    store.add_decision(session, request_id=request.id, round_=round_, kid=envelope.kid,
                       decision=decision.decision, project_digest=decision.project_digest,
                       envelope=envelope.model_dump(mode="json"))


def project_decisions(session: Session, request: Request) -> tuple[SignedEnvelope, ...]:
    """The signed decisions of the round that approved the agreement in force (never an
    amendment's under review: docs/amendments.md), for match requests."""
    round_ = request.approved_round if request.approved_round is not None else request.round
    return tuple(SignedEnvelope.model_validate(r.envelope)
                 for r in store.decisions(session, request_id=request.id, round_=round_))


def requires_signature(session: Session) -> bool:
    """Once a roster exists, an approval counts only when signed by a member's key."""
    return store.latest_roster(session) is not None


def signed_revocation(session: Session, ctx: HubContext, caller: Caller, *, request_id: str,
                      body: bytes, client: httpx.Client) -> dict[str, Any]:
    """Verify a member's signed revocation, revoke the request, push it to the nodes."""
    request = visible_request(session, caller, request_id=request_id)
    fields = {"object_type": "request", "object_id": request.id, "project": request.id}
    envelope = _envelope(_json(body))
    roster = current_roster(session)
    try:
        if roster is None:
            raise _refused("no governance roster exists yet", "no_roster", 409)
        revocation = verify_revocation(envelope, roster=roster, stewards={},
                                       project_id=request.id)
    except (HubError, ProtocolError) as exc:
        code = exc.code if isinstance(exc, HubError) else exc.reason
        audit.refuse(session, ctx, caller, exc if isinstance(exc, HubError)
                     else _refused(str(exc), code, 403), action="governance.revocation_refused",
                     **fields)
    if store.get_revocation(session, request_id=request.id) is None:
        store.add_revocation(session, request_id=request.id, kid=envelope.kid,
                             reason=revocation.reason, envelope=envelope.model_dump(mode="json"))
        audit.record(session, ctx, caller, action="governance.revoked",
                     detail={"kid": envelope.kid}, **fields)
        session.commit()
        _revoke_at_hub(session, ctx, caller, request, revocation)
    pushed = push_revocation(session, ctx, request_id=request.id, client=client)
    return {"project_id": request.id, "kid": envelope.kid, "pushed_to": pushed}


def _revoke_at_hub(session: Session, ctx: HubContext, caller: Caller, request: Request,
                   revocation: Revocation) -> None:
    from hub.services.requests import revoke_request

    try:
        revoke_request(session, ctx, caller, request_id=request.id, reason=revocation.reason)
    except ConflictError:
        session.rollback()  # not revocable here (revoked, expired…): nodes still learn


def push_revocation(session: Session, ctx: HubContext, *, request_id: str,
                    client: httpx.Client) -> list[str]:
    """POST the stored revocation to every enrolled node of the project; the agencies that
    took it. Nodes that miss it pull it (``GET /v1/node/governance``)."""
    from hub.node_client import node_url

    record = store.get_revocation(session, request_id=request_id)
    request = request_store.get_request(session, request_id=request_id)
    if record is None or request is None:
        return []
    pushed = set(record.pushed_to)
    content = SignedEnvelope.model_validate(record.envelope).to_json()
    for code in load_dsa(request).agencies:
        agency = agency_store.get_agency(session, code=code)
        if agency is None or not agency.url or code in pushed:
            continue
        try:
            response = client.post(node_url(ctx.settings, agency.url)
                                   + "/v1/governance/revocations", content=content,
                                   headers={"Content-Type": "application/json"})
        except (httpx.HTTPError, HubError) as exc:
            log.warning("revocation push to %s failed: %s", code, type(exc).__name__)
            continue
        if response.status_code == 200:
            pushed.add(code)
        else:
            log.warning("node %s refused the revocation push (%s)", code, response.status_code)
    record.pushed_to = sorted(pushed)
    session.commit()
    return record.pushed_to


def node_governance(session: Session, caller: Caller) -> dict[str, Any]:
    """What a node pulls: the roster chain and the revocations of its agency's projects."""
    assert caller.principal is not None
    projects = [r.id for r in request_store.list_requests(session,
                                                          agency_code=caller.principal.agency)]
    return {"roster_updates": roster_chain(session),
            "revocations": [r.envelope for r in store.revocations_for(session,
                                                                     request_ids=projects)]}
