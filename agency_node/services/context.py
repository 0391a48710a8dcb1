"""Everything the request services need, built once per app by ``create_app``."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from agency_node import keys
from agency_node.runtime import NodeRuntime
from agency_node.store.nonces import DatabaseReplayGuard
from protocol.keyfiles import key_id
from protocol.signing import Verifier
from protocol.wire import ExtractRequest, MatchRequest


@dataclass
class NodeServices:
    runtime: NodeRuntime
    verifier: Verifier
    #: The hub's linkage-role HPKE key: never a recipient of extract payloads.
    hub_hpke_key: X25519PublicKey
    pseudonym_key: bytes = field(repr=False)
    #: Signs what the node answers with data (extract responses), so the hub can tell
    #: which agency sent it.
    signing_key: Ed25519PrivateKey = field(repr=False)
    clock: Callable[[], float] = time.time
    #: The assembly role's key pinned at enrollment: the only extract payload recipient.
    assembly_key: X25519PublicKey | None = None
    #: The assembly role's signing key pinned at enrollment: the only key extract requests
    #: are accepted from.
    assembly_signing_key: Ed25519PublicKey | None = None

    @classmethod
    def build(cls, runtime: NodeRuntime, *, clock: Callable[[], float] = time.time) -> NodeServices:
        """Load the enrolled hub keys and the node keys. Trust exactly two signing keys,
        each for its own requests (separation of duties, docs/extracts.md): the hub signing
        key for match requests, the pinned assembly signing key for extract requests."""
        settings = runtime.settings
        settings.require_serving()
        hub_signing = keys.load_hub_signing_key(settings.dir)
        assembly_signing = keys.load_assembly_signing_key(settings.dir)
        keyring = {key_id(hub_signing): hub_signing}
        extract_signers: set[str] = set()
        if assembly_signing is not None:
            keyring[key_id(assembly_signing)] = assembly_signing
            extract_signers.add(key_id(assembly_signing))
        verifier = Verifier(
            keyring=keyring,
            replay_guard=DatabaseReplayGuard(runtime.sessions),
            clock=clock,
            signers={MatchRequest.TYP: {key_id(hub_signing)},
                     ExtractRequest.TYP: extract_signers},
        )
        return cls(
            runtime=runtime,
            verifier=verifier,
            hub_hpke_key=keys.load_hub_hpke_key(settings.dir),
            pseudonym_key=keys.load_pseudonym_key(settings.dir),
            signing_key=keys.load_signing_key(settings.dir),
            clock=clock,
            assembly_key=keys.load_assembly_key(settings.dir),
            assembly_signing_key=assembly_signing,
        )

    @property
    def agency(self) -> str:
        return self.runtime.settings.agency

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def federation_secret(self) -> bytes:
        # Read per request rather than held: a rotated secret takes effect without restart.
        return keys.load_federation_secret(self.runtime.settings.dir)
