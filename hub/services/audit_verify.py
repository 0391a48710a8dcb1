"""``fedlink audit verify --dir DIR | --hub URL``: check the hub's audit chain.

``verify_offline`` reads the database of the hub in ``DIR`` directly and checks the chain,
every signed checkpoint (with the public half of ``DIR/signing.key``) and the recorded head.

``verify_online`` fetches the events and checkpoints through the API with an auditor token
and verifies them *on the auditor's machine*: trusting the hub's own verdict
(``GET /v1/audit/verify``) would ask a possibly compromised hub to vouch for itself.
Checkpoint signatures are checked against ``hub_key`` (a PEM file the auditor pinned out of
band) when given, else against the key the hub publishes at ``/v1/hub/keys`` — weaker,
and said so in the summary.

Both return a one-line summary or raise :class:`hub.errors.AuditChainError` naming the
first broken event (the contract of :mod:`fedlink.commands.audit`).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from hub.db.engine import make_engine, make_session_factory
from hub.domain.audit_chain import verify_chain
from hub.keys import load_hub_keys
from hub.persistence import audit as store
from hub.services.audit_log import checkpoints, event_view
from hub.settings import HubSettings
from protocol.errors import KeyFormatError
from protocol.keyfiles import ed25519_public_from_b64, ed25519_public_from_pem, key_id


def verify_offline(hub_dir: Path) -> str:
    settings = HubSettings.load(Path(hub_dir))
    keys = load_hub_keys(settings.dir)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            head = store.get_head(session)
            report = verify_chain(
                (event_view(e) for e in store.iter_events(session)),
                checkpoints(session),
                keyring={keys.signing_kid: keys.signing_public},
                expected_head=(head.seq, head.hash) if head else (0, ""),
            )
    finally:
        engine.dispose()
    return (f"hub audit chain intact: {report.events} events, {report.checkpoints} signed "
            f"checkpoints, head {report.head_hash[:16]}")


def verify_online(
    hub_url: str,
    *,
    token: str | None = None,
    transport: httpx.BaseTransport | None = None,
    hub_key: Path | None = None,
) -> str:
    from hub.client import HubClient

    with HubClient(hub_url, token=token, transport=transport) as client:
        if hub_key is not None:
            try:
                public = ed25519_public_from_pem(Path(hub_key).read_bytes())
            except KeyFormatError as exc:
                from hub.errors import ConfigError

                raise ConfigError(f"{hub_key}: {exc}") from None
            pinned = "pinned key"
        else:
            public = ed25519_public_from_b64(client.hub_keys()["signing_public_key"])
            pinned = "key published by the hub (pin one with --hub-key for independence)"
        state = client.audit_checkpoints()
        events = list(client.iter_audit_events())
    head = state["head"]
    report = verify_chain(
        events, state["checkpoints"], keyring={key_id(public): public},
        expected_head=(int(head["seq"]), str(head["hash"])), allow_longer=True,
    )
    return (f"hub audit chain intact (verified locally): {report.events} events, "
            f"{report.checkpoints} signed checkpoints checked with the {pinned}, "
            f"head {report.head_hash[:16]}")
