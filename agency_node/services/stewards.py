"""Data stewards sign with their own keys (docs/agency-node.md, "Steward keys").

Agency IT registers each steward's Ed25519 public key on the node
(``fedlink node steward add``); the steward keeps the private half in a 0600 file of their
own (``fedlink node steward keygen``). Every decision
(``fedlink node approve/deny --steward-key FILE``) must be signed by one of them: the node
keeps the steward's signature over the exact ``steward_decision`` body it sends to the hub,
and the decision records the steward's key id instead of the operating-system user name.
A registered steward may also sign a revocation the node honours.
"""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agency_node.errors import ApprovalError
from agency_node.runtime import NodeRuntime
from agency_node.store import governance as store
from protocol.errors import ProtocolError
from protocol.governance import sign_statement
from protocol.keyfiles import ed25519_public_from_b64, key_id
from protocol.signing import SignedEnvelope
from protocol.wire import StewardDecision


def registered(runtime: NodeRuntime) -> dict[str, Ed25519PublicKey]:
    """kid → public key of every steward registered on this node."""
    with runtime.sessions() as session:
        return {k.kid: ed25519_public_from_b64(k.public_key)
                for k in store.steward_keys(session)}


def add_steward(runtime: NodeRuntime, *, label: str, public_key: str,
                now: dt.datetime) -> str:
    """Register a steward's public key (raw base64url); its kid. Audited."""
    try:
        kid = key_id(ed25519_public_from_b64(public_key))
    except ProtocolError as exc:
        raise ApprovalError(f"not a steward public key: {exc}") from None
    if not label.strip():
        raise ApprovalError("a steward key needs a --label (the steward's name or role)")
    with runtime.sessions() as session:
        new = store.add_steward_key(session, kid=kid, label=label.strip()[:100],
                                    public_key=public_key, added_at=now.isoformat())
        session.commit()
    if new:
        runtime.audit.append(actor="operator", typ="steward_key", outcome="registered",
                             details={"kid": kid}, now=now)
    return kid


def require_steward(runtime: NodeRuntime, key: Ed25519PrivateKey | None) -> str:
    """The kid of the registered steward whose ``key`` signs a decision. A decision is
    always a named steward's: with no steward key registered on the node, or no key
    given, or a key the node does not know, it is refused (ApprovalError says what to
    run) — never attributed to whoever happens to run the command."""
    known = registered(runtime)
    if not known:
        raise ApprovalError(
            "no steward key is registered on this node: the steward creates one "
            "(`fedlink node steward keygen --key-file FILE`) and agency IT registers its "
            "public half (`fedlink node steward add --public-key …`); then decide with "
            "--steward-key FILE")
    if key is None:
        raise ApprovalError("a decision must be signed with the steward's own key: "
                            "--steward-key FILE")
    kid = key_id(key.public_key())
    if kid not in known:
        raise ApprovalError(f"steward key {kid} is not registered on this node")
    return kid


def sign_decision(runtime: NodeRuntime, key: Ed25519PrivateKey, body: StewardDecision, *,
                  now: dt.datetime) -> SignedEnvelope:
    """The steward's signature over ``body``, kept on the node as evidence."""
    envelope = sign_statement(body, key)
    with runtime.sessions() as session:
        store.save_steward_signature(session, project_id=body.project_id,
                                     steward_kid=envelope.kid,
                                     envelope=envelope.model_dump(mode="json"),
                                     signed_at=now.isoformat())
        session.commit()
    return envelope
