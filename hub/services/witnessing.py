"""Pushing the hub's signed checkpoints to every enrolled agency node (the witnesses).

:func:`push` signs a checkpoint of the audit log as it is now, then for each enrolled
agency sends ``POST {node}/v1/witness/checkpoints`` a hub-signed ``tlog_witness`` envelope
with the checkpoint and a consistency proof from the last size that node co-signed. It
verifies the co-signature and the node's own log checkpoint against the agency's signing
key (pinned at enrollment) before keeping them. A node's refusal (``rollback``,
``inconsistent``, …) is appended to the audit log as ``tlog.witness_refused``; an
unreachable node is retried at the next push. ``old_size_mismatch`` (the hub lost track of
what the node co-signed, e.g. a response lost in transit) is resolved by reading what the
node says it co-signed and retrying once from there.

:class:`WitnessPusher` runs it every ``witness_push_seconds`` in a daemon thread, only when
the log grew or a witness is behind: requests never wait for witnesses.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Final

import httpx
from sqlalchemy.exc import SQLAlchemyError

from hub.db.models import Agency
from hub.domain.roles import Caller, Principal
from hub.errors import HubError
from hub.node_client import make_node_http_client, node_url
from hub.persistence import agencies as agency_store
from hub.persistence import tlog as store
from hub.services import audit, tlog
from hub.services.audit import format_ts
from hub.services.context import HubContext
from protocol.errors import ProtocolError
from protocol.keyfiles import ed25519_public_from_b64
from protocol.signing import sign
from protocol.tlog import consistency_proof
from protocol.tlog_note import NoteSignature, open_checkpoint, verify_cosignature
from protocol.witness import (
    WitnessRequest,
    WitnessResponse,
    encode_hashes,
    node_log_origin,
    witness_name,
)

log = logging.getLogger("fedlink.hub.witness")
PUSHER: Final = Caller(Principal(kind="worker", id=None, role="witness-pusher"), source="local")
WITNESS_PATH: Final = "/v1/witness/checkpoints"


def _witnesses(ctx: HubContext) -> list[Agency]:
    with ctx.session_factory() as session:
        return [a for a in agency_store.list_agencies(session)
                if a.enrolled_at is not None and a.signing_public_key and a.url]


def push(ctx: HubContext, *, client: httpx.Client | None = None) -> dict[str, str]:
    """Sign a checkpoint now and offer it to every witness; ``{agency: outcome}``."""
    with ctx.session_factory() as session:
        checkpoint = tlog.sign_current(session, ctx)
        note, size = checkpoint.note, checkpoint.size
        tree = tlog.leaves(session, size=size)
        session.commit()
    owned = client is None
    client = client or make_node_http_client(ctx.settings)
    outcomes: dict[str, str] = {}
    try:
        for agency in _witnesses(ctx):
            try:
                outcomes[agency.code] = _push_one(ctx, client, agency, note, size, tree)
            except (httpx.HTTPError, HubError) as exc:
                log.warning("witness %s unreachable: %s", agency.code, type(exc).__name__)
                outcomes[agency.code] = "unreachable"
    finally:
        if owned:
            client.close()
    return outcomes


def _send(ctx: HubContext, client: httpx.Client, agency: Agency, note: str, old_size: int,
          size: int, tree: list[bytes]) -> httpx.Response:
    body = WitnessRequest(agency=agency.code, checkpoint=note, old_size=old_size,
                          consistency=encode_hashes(consistency_proof(tree, old_size, size)))
    envelope = sign(body, typ=WitnessRequest.TYP, private_key=ctx.keys.signing,
                    now=ctx.now_ts())
    return client.post(node_url(ctx.settings, agency.url) + WITNESS_PATH,
                       content=envelope.to_json(),
                       headers={"Content-Type": "application/json"})


def _node_latest_size(ctx: HubContext, client: httpx.Client, agency: Agency) -> int | None:
    response = client.get(node_url(ctx.settings, agency.url) + WITNESS_PATH)
    if response.status_code != 200:
        return None
    sizes = [int(c["size"]) for c in response.json().get("cosigned", [])]
    return max(sizes, default=0)


def _push_one(ctx: HubContext, client: httpx.Client, agency: Agency, note: str, size: int,
              tree: list[bytes]) -> str:
    with ctx.session_factory() as session:
        old_size = store.last_cosigned_size(session, agency=agency.code)
    old_size = min(old_size, size)
    response = _send(ctx, client, agency, note, old_size, size, tree)
    if response.status_code == 409 and _code(response) == "old_size_mismatch":
        node_size = _node_latest_size(ctx, client, agency)
        if node_size is not None and node_size <= size:
            response = _send(ctx, client, agency, note, node_size, size, tree)
    if response.status_code != 200:
        code = _code(response) or f"http_{response.status_code}"
        with ctx.session_factory() as session:
            audit.record(session, ctx, PUSHER, action="tlog.witness_refused",
                         outcome=f"refused:{code}", object_type="tlog", object_id=str(size),
                         agency=agency.code,
                         detail={"code": code, "size": size,
                                 "reason": str(_detail(response))[:500]})
            session.commit()
        return code
    return _keep(ctx, agency, note, size, response.json())


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""


def _detail(response: httpx.Response) -> Any:
    try:
        return response.json().get("detail", "")
    except ValueError:
        return response.text[:200]


def _keep(ctx: HubContext, agency: Agency, note: str, size: int, payload: Any) -> str:
    """Verify the co-signature and the node-log checkpoint, then keep both."""
    key = ed25519_public_from_b64(str(agency.signing_public_key))
    try:
        answer = WitnessResponse.model_validate(payload)
        body = note.partition("\n\n")[0] + "\n"
        cosig = verify_cosignature(body, NoteSignature.parse(answer.cosignature),
                                   name=witness_name(agency.code), public_key=key)
        origin = node_log_origin(agency.code)
        node_head, _ = open_checkpoint(answer.node_checkpoint, name=origin, public_key=key,
                                       origin=origin)
    except (ProtocolError, ValueError) as exc:
        log.warning("witness %s answered an invalid co-signature: %s", agency.code, exc)
        return "bad_cosignature"
    now = format_ts(ctx.now())
    with ctx.session_factory() as session:
        store.add_cosignature(session, size=size, agency=agency.code,
                              witness=witness_name(agency.code), signature=answer.cosignature,
                              cosigned_at=cosig.timestamp, received_at=now)
        store.add_node_checkpoint(session, agency=agency.code, size=node_head.size,
                                  root_hash=node_head.root_hash.hex(),
                                  note=answer.node_checkpoint, received_at=now)
        session.commit()
    return "cosigned"


def needs_push(ctx: HubContext) -> bool:
    """The log grew past the latest checkpoint, or a witness has not co-signed it."""
    with ctx.session_factory() as session:
        latest = store.latest_checkpoint(session)
        if latest is None or store.event_count(session) != latest.size:
            return True
        return any(store.last_cosigned_size(session, agency=a.code) < latest.size
                   for a in agency_store.list_agencies(session)
                   if a.enrolled_at is not None and a.signing_public_key)


class WitnessPusher:
    """Runs :func:`push` every ``interval`` seconds (when needed) in a daemon thread."""

    def __init__(self, ctx: HubContext, *, interval: float) -> None:
        self._ctx, self._interval = ctx, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fedlink-witness-pusher",
                                        daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if needs_push(self._ctx):
                    outcomes = push(self._ctx)
                    log.info("witness push: %s", outcomes)
            except (HubError, ProtocolError, SQLAlchemyError, OSError) as exc:
                log.warning("witness push failed (%s); trying again later",
                            type(exc).__name__)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
