"""Asking each agency node for the approved variables of its linked records.

Per :class:`protocol.wire.ExtractRequest` the hub signs a fresh envelope (fresh nonce) and
posts it to ``{node}/v1/extracts`` (docs/protocol.md) with the node HTTP client
(:mod:`hub.node_client`: the federation CA, https only off loopback). A 4xx is the node
refusing (its code is kept) and ends the extract at once. A 5xx, a timeout or a network
failure is the node failing and is retried like a match request (``node_retries`` more
times, backoff ``node_retry_backoff_seconds`` doubling, a fresh envelope and nonce each
time); when the tries are used up the extract ends with
:class:`hub.errors.ExtractBuildError` naming the agency. The answer is checked
by :func:`hub.extracts.payloads.read_payload` before anything of it is used: it must be
signed by the agency's enrolled node key and quote the nonce of the request it answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import Any

import httpx
import pyarrow as pa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.errors import ExtractBuildError
from hub.extracts.payloads import SentRequest, read_payload
from protocol.signing import SignedEnvelope, sign
from protocol.wire import ExtractRequest

EXTRACT_PATH = "/v1/extracts"


@dataclass(frozen=True)
class NodeKeys:
    #: The assembly role's signing key (the only key nodes accept on extract requests).
    signing: Ed25519PrivateKey
    #: The assembly role's HPKE key (opens the payloads).
    hpke: X25519PrivateKey
    message_ttl: int
    now: Callable[[], int]
    #: Further tries after a 5xx, timeout or network failure (never after a 4xx).
    retries: int = 0
    backoff_seconds: float = 1.0
    sleep: Callable[[float], None] = time.sleep


#: Codes of failures that may pass when asked again (the node failing, not refusing).
RETRYABLE: frozenset[str] = frozenset({"node_timeout", "node_unreachable", "node_error"})
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class Answer:
    agency: str
    rows: int
    sha256: str
    table: pa.Table


def _post(client: httpx.Client, url: str, request: ExtractRequest,
          envelope: SignedEnvelope) -> Any:
    agency = request.agency
    try:
        response = client.post(url.rstrip("/") + EXTRACT_PATH, content=envelope.to_json(),
                               headers={"Content-Type": "application/json"})
    except httpx.TimeoutException:
        raise ExtractBuildError(f"node {agency} did not answer the extract request in time",
                                code="node_timeout", agency=agency) from None
    except httpx.TransportError as exc:
        raise ExtractBuildError(f"node {agency} could not be reached ({type(exc).__name__})",
                                code="node_unreachable", agency=agency) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        code, detail = f"http_{response.status_code}", response.reason_phrase
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            code, detail = body["error"][:64], str(body.get("detail", ""))[:300]
        verb = "refused" if response.status_code < 500 else "failed"
        raise ExtractBuildError(
            f"node {agency} {verb} the extract request: {code} ({response.status_code}): "
            f"{detail}", code=code if response.status_code < 500 else "node_error",
            agency=agency)
    if body is None:
        raise ExtractBuildError(f"node {agency} answered with something that is not JSON",
                                code="bad_extract_payload", agency=agency)
    return body


def _ask(client: httpx.Client, url: str, request: ExtractRequest,
         keys: NodeKeys) -> tuple[SignedEnvelope, Any]:
    """Post one request, retrying node failures; each try is freshly signed (new nonce)."""
    tries = keys.retries + 1
    for attempt in range(1, tries + 1):
        envelope = sign(request, typ=ExtractRequest.TYP, private_key=keys.signing,
                        ttl_seconds=keys.message_ttl, now=keys.now())
        try:
            return envelope, _post(client, url, request, envelope)
        except ExtractBuildError as exc:
            if exc.code not in RETRYABLE or attempt == tries:
                if exc.code in RETRYABLE and tries > 1:
                    raise ExtractBuildError(f"{exc}; gave up after {tries} attempts",
                                            code=exc.code, agency=exc.agency) from None
                raise
            keys.sleep(min(MAX_BACKOFF_SECONDS, keys.backoff_seconds * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")  # pragma: no cover


def ask_nodes(client: httpx.Client, requests: list[ExtractRequest], *,
              urls: Mapping[str, str], node_keys: Mapping[str, Mapping[str, Ed25519PublicKey]],
              keys: NodeKeys, run_pids: Set[str]) -> list[Answer]:
    """Every request's checked answer, in order; the first failure is raised.

    ``node_keys``: per agency, its enrolled node signing key by kid — the only key its
    answers may be signed with.
    """
    answers = []
    for request in requests:
        envelope, body = _ask(client, urls[request.agency], request, keys)
        sent = SentRequest(request=request, nonce=envelope.nonce,
                           node_keyring=node_keys.get(request.agency, {}), now=keys.now(),
                           max_ttl=keys.message_ttl)
        table = read_payload(body, sent, keys.hpke, run_pids=run_pids)
        answers.append(Answer(agency=request.agency, rows=table.num_rows,
                              sha256=str(body["body"]["header"]["sha256"]), table=table))
    return answers


def agency_tables(answers: list[Answer]) -> dict[str, pa.Table]:
    """The answers of each agency concatenated (a large agency answers in several parts)."""
    parts: dict[str, list[pa.Table]] = {}
    for answer in answers:
        parts.setdefault(answer.agency, []).append(answer.table)
    return {agency: pa.concat_tables(tables) for agency, tables in parts.items()}
