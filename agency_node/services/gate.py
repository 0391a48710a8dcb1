"""The node's front door for hub requests: size, signature, freshness, approval.

:func:`admit` runs every check shared by match and extract requests, in this order, and
stops at the first failure: body size (413 before parsing) → envelope signature, expiry,
signer and nonce (:func:`protocol.signing.verify`: a match request only by the enrolled hub
key, an extract request only by the assembly signing key pinned at enrollment — any other
trusted signer is **403 ``wrong_signer``**, and an extract request reaching a node with no
assembly signing key pinned is **403 ``no_assembly_key``**) → body shape → the
request is for this agency → this agency's steward approved the project here and today is
inside the approved term (by this node's clock) → no signed revocation of the project is
known here (**403 ``revoked``**) → the caller's own checks (governance quorum included).
Every refusal appends an audit event (who asked, what, the reason) before it propagates to
the HTTP layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from agency_node.errors import NodeError, PayloadTooLargeError, RefusedError
from agency_node.services.context import NodeServices
from agency_node.services.governance import require_not_revoked
from agency_node.services.scope import require_approval
from agency_node.store.approvals import get_approval
from agency_node.store.models import Approval
from protocol.errors import ProtocolError, WrongSignerError
from protocol.signing import SignedEnvelope
from protocol.wire import ExtractRequest, MatchRequest, body_as

M = TypeVar("M", MatchRequest, ExtractRequest)


@dataclass(frozen=True)
class ReceivedBody:
    """A request body read up to ``limit`` bytes; ``too_large`` when it went beyond."""

    data: bytes
    too_large: bool
    limit: int


@dataclass(frozen=True)
class Admitted(Generic[M]):
    envelope: SignedEnvelope
    request: M
    approval: Approval

    @property
    def actor(self) -> str:
        return self.envelope.kid


def admit(
    services: NodeServices,
    body: ReceivedBody,
    model: type[M],
    *,
    check: Callable[[M, Approval], None],
) -> Admitted[M]:
    """Verify and authorise one hub request, or audit the refusal and raise it."""
    actor, project_id = "unverified", ""
    try:
        if body.too_large:
            raise PayloadTooLargeError(f"request body is larger than {body.limit} bytes")
        try:
            envelope = services.verifier.verify(body.data, expected_typ=model.TYP)
        except WrongSignerError as exc:
            actor = exc.kid  # authentic: the signature verified, the signer is known
            if model is ExtractRequest and services.assembly_signing_key is None:
                raise RefusedError(
                    "no_assembly_key",
                    "no assembly signing key was pinned at enrollment, so no extract request "
                    "is accepted; re-enroll with a hub whose assembler is set up "
                    "(`fedlink hub assembler init`)",
                ) from exc
            raise
        actor = envelope.kid
        request = body_as(envelope, model)
        project_id = request.project_id
        if request.agency != services.agency:
            raise RefusedError(
                "wrong_agency", f"this node serves agency {services.agency}, not {request.agency}"
            )
        with services.runtime.sessions() as session:
            approval = get_approval(session, project_id=project_id)
        approval = require_approval(approval, project_id=project_id, today=services.now().date())
        # A signed revocation this node knows of ends the project whatever the hub asks.
        require_not_revoked(services.runtime, project_id)
        check(request, approval)
    except (NodeError, ProtocolError) as exc:
        code = exc.code if isinstance(exc, NodeError) else exc.reason
        services.runtime.audit.append(
            actor=actor, typ=model.TYP, project_id=project_id, outcome="refused", reason=code,
            details={"detail": str(exc)[:500]}, now=services.now(),
        )
        raise
    return Admitted(envelope=envelope, request=request, approval=approval)
