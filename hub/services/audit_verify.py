"""``fedlink audit verify --dir DIR | --hub URL``: check the hub's audit chain.

``verify_offline`` reads the database of the hub in ``DIR`` directly and checks the chain,
every signed checkpoint (with the public half of ``DIR/signing.key``) and the recorded head.

``verify_online`` fetches the events and checkpoints through the API with an auditor token
and verifies them *on the auditor's machine*: trusting the hub's own verdict
(``GET /v1/audit/verify``) would ask a possibly compromised hub to vouch for itself.
Checkpoint signatures are checked against ``hub_key`` (a PEM file the auditor pinned out of
band) when given, else against the key the hub publishes at ``/v1/hub/keys`` — weaker,
and said so in the summary.

Both also check the transparency log (:mod:`hub.services.tlog_verify`): every signed
checkpoint against the events, consistency between successive checkpoints, and every
witness co-signature, and say which witness co-signed which sizes. Witness keys come from
``witness_keys`` (a directory of ``<AGENCY>.pem`` files the auditor pinned) when given,
else from the agency directory the hub serves — weaker: a compromised hub could list keys
of its own and co-sign for "witnesses" it invented; the summary says which was used.
``ask_nodes`` also asks each node (at the URL in the agency directory) for the checkpoints
it co-signed and checks the hub log against them: that view does not pass through the hub.

Both return a summary (one line per finding) or raise :class:`hub.errors.AuditChainError`
naming the first broken event (the contract of :mod:`fedlink.commands.audit`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.db.engine import make_engine, make_session_factory
from hub.domain.audit_chain import verify_chain
from hub.keys import load_hub_keys
from hub.persistence import agencies as agency_store
from hub.persistence import audit as store
from hub.services import tlog
from hub.services.audit_log import checkpoints, event_view
from hub.services.tlog_verify import (
    TlogReport,
    check_witness_view,
    leaves_of,
    verify_hub_tlog,
)
from hub.settings import HubSettings
from protocol.errors import KeyFormatError
from protocol.keyfiles import ed25519_public_from_b64, ed25519_public_from_pem, key_id

#: ``progress(events verified so far, events in the chain)``: the CLI's progress bar.
Progress = Callable[[int, int | None], None]
#: Events between two calls of ``progress``.
PROGRESS_EVERY = 100


def _counted(events: Iterable[dict[str, Any]], progress: Progress | None,
             total: int | None) -> Iterator[dict[str, Any]]:
    """``events`` unchanged, calling ``progress`` as they are consumed (verified)."""
    done = 0
    for event in events:
        yield event
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
    if progress is not None and (done == 0 or done % PROGRESS_EVERY):
        progress(done, total)  # the tail since the last report


def held_node_checkpoints(hub_dir: Path) -> tuple[list[Any], list[Any]]:
    """The node-log checkpoints the hub in ``hub_dir`` holds, and its agency directory."""
    settings = HubSettings.load(Path(hub_dir))
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            copies = tlog.node_checkpoints_view(session, agency=None)
            directory = [{"code": a.code, "signing_public_key": a.signing_public_key}
                         for a in agency_store.list_agencies(session)]
    finally:
        engine.dispose()
    return copies, directory


def verify_offline(hub_dir: Path, *, witness_keys: Path | None = None,
                   ask_nodes: bool = False,
                   transport: httpx.BaseTransport | None = None,
                   progress: Progress | None = None) -> str:
    settings = HubSettings.load(Path(hub_dir))
    keys = load_hub_keys(settings.dir)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            head = store.get_head(session)
            report = verify_chain(
                _counted((event_view(e) for e in store.iter_events(session)), progress,
                         head.seq if head else 0),
                checkpoints(session),
                keyring={keys.signing_kid: keys.signing_public},
                expected_head=(head.seq, head.hash) if head else (0, ""),
            )
            leaves = tlog.leaves(session)
            logged = tlog.checkpoints_view(session)["checkpoints"]
            directory = [{"code": a.code, "url": a.url,
                           "signing_public_key": a.signing_public_key}
                          for a in agency_store.list_agencies(session)]
    finally:
        engine.dispose()
    if witness_keys is not None:
        keys_by_agency, source = _pinned_keys(witness_keys), f"pinned files in {witness_keys}"
    else:
        keys_by_agency, source = _directory_keys(directory), "agency directory in the database"
    tlog_report = verify_hub_tlog(leaves, logged, hub_key=keys.signing_public,
                                  witness_keys=keys_by_agency)
    lines = [f"hub audit chain intact: {report.events} events, {report.checkpoints} signed "
             f"checkpoints, head {report.head_hash[:16]}", *_tlog_lines(tlog_report, source)]
    if ask_nodes:
        lines += _ask_nodes(directory, leaves, hub_key=keys.signing_public,
                            witness_keys=keys_by_agency, transport=transport)
    return "\n".join(lines)


def _directory_keys(directory: list[dict[str, Any]]) -> dict[str, Ed25519PublicKey]:
    return {str(a["code"]): ed25519_public_from_b64(str(a["signing_public_key"]))
            for a in directory if a.get("signing_public_key")}


def _pinned_keys(folder: Path) -> dict[str, Ed25519PublicKey]:
    """``<AGENCY>.pem`` files (Ed25519 public keys) in ``folder``, pinned by the auditor."""
    from hub.errors import ConfigError

    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(Path(folder).glob("*.pem")):
        try:
            keys[path.stem] = ed25519_public_from_pem(path.read_bytes())
        except (KeyFormatError, OSError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
    if not keys:
        raise ConfigError(f"{folder} holds no <AGENCY>.pem witness key")
    return keys


def _tlog_lines(report: TlogReport, source: str) -> list[str]:
    lines = [f"transparency log consistent: {report.checkpoints} signed checkpoints, "
             f"largest size {report.largest}; witness keys from the {source}"]
    for agency, sizes in sorted(report.witnessed.items()):
        lines.append(f"witness {agency} co-signed sizes {', '.join(map(str, sizes))} "
                     f"(latest {max(sizes)})")
    for agency in sorted(report.unverified):
        lines.append(f"witness {agency}: co-signatures NOT checked (no key for it)")
    if not report.witnessed:
        lines.append("no witness co-signature checked: the log is vouched for by the hub only")
    return lines


def _ask_nodes(directory: list[dict[str, Any]], leaves: list[bytes], *,
               hub_key: Ed25519PublicKey, witness_keys: dict[str, Ed25519PublicKey],
               transport: httpx.BaseTransport | None) -> list[str]:
    from hub.client import trust

    lines = []
    with httpx.Client(verify=trust(os.environ.get("FEDLINK_CA_FILE") or None), timeout=30.0,
                      transport=transport) as client:
        for agency in directory:
            code, url = str(agency["code"]), str(agency.get("url") or "")
            key = witness_keys.get(code)
            if not url or key is None:
                continue
            try:
                response = client.get(url.rstrip("/") + "/v1/witness/checkpoints")
                response.raise_for_status()
                view = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                lines.append(f"witness {code} could not be asked directly: "
                             f"{type(exc).__name__}")
                continue
            largest = check_witness_view(leaves, view, agency=code, hub_key=hub_key,
                                         witness_key=key)
            lines.append(f"witness {code} asked directly: its {len(view.get('cosigned', []))} "
                         f"co-signed checkpoints (up to size {largest}) match the hub log")
    return lines


def verify_online(
    hub_url: str,
    *,
    token: str | None = None,
    transport: httpx.BaseTransport | None = None,
    hub_key: Path | None = None,
    witness_keys: Path | None = None,
    ask_nodes: bool = False,
    progress: Progress | None = None,
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
        logged = client.tlog_checkpoints()["checkpoints"]
        directory = client.agencies()
        head = state["head"]
        events: list[dict[str, Any]] = []

        def fetched() -> Iterator[dict[str, Any]]:  # verified page by page, as it arrives
            for event in client.iter_audit_events():
                events.append(event)
                yield event

        report = verify_chain(
            _counted(fetched(), progress, int(head["seq"])), state["checkpoints"],
            keyring={key_id(public): public},
            expected_head=(int(head["seq"]), str(head["hash"])), allow_longer=True,
        )
        leaves = leaves_of(str(e["hash"]) for e in events)
        if witness_keys is not None:
            keys, source = _pinned_keys(witness_keys), f"pinned files in {witness_keys}"
        else:
            keys = _directory_keys(directory)
            source = "agency directory served by the hub (pin them with --witness-keys)"
        tlog_report = verify_hub_tlog(leaves, logged, hub_key=public, witness_keys=keys,
                                      consistency=client.tlog_consistency)
    lines = [f"hub audit chain intact (verified locally): {report.events} events, "
             f"{report.checkpoints} signed checkpoints checked with the {pinned}, "
             f"head {report.head_hash[:16]}", *_tlog_lines(tlog_report, source)]
    if ask_nodes:
        lines += _ask_nodes(directory, leaves, hub_key=public, witness_keys=keys,
                            transport=transport)
    return "\n".join(lines)
