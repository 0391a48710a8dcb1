"""Checking and opening what a node sends back for an extract request.

A node's answer is accepted only if it comes from that node and is exactly what was asked
for:

* a signed envelope (:mod:`protocol.signing`) that verifies with the agency's enrolled
  node key, is fresh and is an ``extract_response`` (``unsigned_response``,
  ``bad_node_signature``, ``stale_response``) — HPKE hides the payload, but anyone
  can seal to the hub's public key, so only the signature says which agency sent it;
* quoting the nonce of the very request it answers (``wrong_request_nonce``):
  a recorded answer cannot be replayed onto another request, so no replay store is needed;
* a valid :class:`protocol.wire.ExtractResponse` whose header names this project, agency
  and run, and exactly the requested variables (``payload_mismatch``,
  ``unexpected_variables``);
* a payload that opens with the hub's HPKE key under the context the *hub* expects
  (``payload_undecryptable``) and is an Arrow IPC stream (``bad_extract_payload``) with the
  header's row count;
* columns ``person_id`` plus exactly the requested variables — no identity field, no pid,
  no local record id column (``unexpected_variables``) — and, from an agency that maps a
  period column, ``period``, which must be a string column (``bad_extract_payload``);
* person ids all among those assigned in *this* request (``unexpected_person_ids``); a
  person may have several rows (one per period: a longitudinal payload).
* no string value that is a pid of the run (``pid_in_payload``): pids are hub-internal and
  must never reach an extract, even smuggled inside a variable.

Any failure raises :class:`hub.errors.ExtractBuildError` naming the agency; the extract
fails with that reason.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.errors import ExtractBuildError
from hub.extracts.periods import PERIOD_COLUMN
from protocol.errors import (
    BadSignatureError,
    DecryptionError,
    ExpiredMessageError,
    MalformedMessageError,
    MessageError,
    UnknownKeyError,
    UnsupportedVersionError,
    WrongMessageTypeError,
)
from protocol.identity import DIRECT_IDENTIFIERS
from protocol.payload import open_payload
from protocol.signing import MemoryReplayGuard, verify
from protocol.wire import (
    EXTRACT_PURPOSE,
    ExtractRequest,
    ExtractResponse,
    body_as,
    extract_payload_context,
)


def _refuse(request: ExtractRequest, code: str, detail: str) -> ExtractBuildError:
    return ExtractBuildError(f"node {request.agency}: {detail}; payload refused", code=code,
                             agency=request.agency)


@dataclass(frozen=True)
class SentRequest:
    """What the hub knows of the request an answer must match."""

    request: ExtractRequest
    nonce: str  # of the hub's signed envelope
    node_keyring: Mapping[str, Ed25519PublicKey]  # the agency's enrolled key, by kid
    now: int
    max_ttl: int


def _verified_response(answer: Any, sent: SentRequest) -> ExtractResponse:
    request = sent.request
    try:
        envelope = verify(answer, keyring=sent.node_keyring, expected_typ=ExtractResponse.TYP,
                          replay_guard=MemoryReplayGuard(), now=sent.now, max_ttl=sent.max_ttl)
    except (MalformedMessageError, UnsupportedVersionError, WrongMessageTypeError):
        raise _refuse(request, "unsigned_response",
                      "the answer is not a signed extract response") from None
    except (UnknownKeyError, BadSignatureError):
        raise _refuse(request, "bad_node_signature",
                      "the answer is not signed by the agency's enrolled node key") from None
    except ExpiredMessageError:
        raise _refuse(request, "stale_response",
                      "the answer's signature has expired or is not yet valid") from None
    try:
        response = body_as(envelope, ExtractResponse)
    except MessageError:
        raise _refuse(request, "bad_extract_payload",
                      "the answer is not an extract response") from None
    if response.request_nonce != sent.nonce:
        raise _refuse(request, "wrong_request_nonce",
                      "the answer quotes another request")
    return response


def read_payload(answer: Any, sent: SentRequest, hpke_key: X25519PrivateKey, *,
                 run_pids: Set[str]) -> pa.Table:
    """The node's table for ``sent.request`` (``person_id``, ``period`` when the node sent
    one, then the variables), or a refusal."""
    request = sent.request
    response = _verified_response(answer, sent)
    header = response.header
    if (header.project_id, header.agency, header.run_id) != (
            request.project_id, request.agency, request.run_id):
        raise _refuse(request, "payload_mismatch",
                      "the payload names another project, agency or run")
    if set(header.variables) != set(request.variables):
        raise _refuse(request, "unexpected_variables",
                      "the payload's variables are not the ones asked for")
    context = extract_payload_context(request.project_id, request.agency, request.run_id)
    try:
        plaintext = open_payload(response.payload, hpke_key, purpose=EXTRACT_PURPOSE,
                                 **context)
    except DecryptionError:
        raise _refuse(request, "payload_undecryptable",
                      "the payload does not open with the hub's key and context") from None
    try:
        table = pa.ipc.open_stream(io.BytesIO(plaintext)).read_all()
    except (pa.ArrowInvalid, OSError):
        raise _refuse(request, "bad_extract_payload",
                      "the payload is not an Arrow IPC stream") from None
    expected = {"person_id", *request.variables}
    names = table.column_names
    # ``period`` is the one column beyond those asked for that a node may add: the
    # normalised period of a longitudinal row (unless a variable of that name was asked
    # for: the column is then that variable).
    period = PERIOD_COLUMN in names and PERIOD_COLUMN not in expected
    if period:
        expected.add(PERIOD_COLUMN)
    if len(set(names)) != len(names) or set(names) != expected:
        extra = sorted(set(names) - expected)
        identity = [n for n in extra if n.lower() in DIRECT_IDENTIFIERS]
        what = f" (identity field(s) {', '.join(identity)})" if identity else ""
        raise _refuse(request, "unexpected_variables",
                      f"the payload has columns that were not asked for{what}"
                      if extra else "the payload lacks requested columns")
    if table.num_rows != header.rows:
        raise _refuse(request, "bad_extract_payload",
                      "the payload's row count differs from its header")
    if period and not _is_text(table.column(PERIOD_COLUMN).type):
        raise _refuse(request, "bad_extract_payload", "period is not a string column")
    _check_people(request, table, run_pids)
    return table.select(["person_id", *([PERIOD_COLUMN] if period else []),
                         *request.variables])


def _is_text(type_: pa.DataType) -> bool:
    return bool(pa.types.is_string(type_) or pa.types.is_large_string(type_))


def _check_people(request: ExtractRequest, table: pa.Table, run_pids: Set[str]) -> None:
    column = table.column("person_id")
    if not pa.types.is_string(column.type) or column.null_count:
        raise _refuse(request, "bad_extract_payload", "person_id is not a non-null string")
    # Several rows of one person are a longitudinal payload (one per period), not an error.
    people = set(column.to_pylist())
    assigned = {person for _, person in request.assignments}
    unknown = people - assigned
    if unknown:
        raise _refuse(request, "unexpected_person_ids",
                      f"{len(unknown)} person id(s) were not asked about")
    for name in table.column_names:
        values = table.column(name)
        if not _is_text(values.type):
            continue
        found = set(pc.unique(values).to_pylist()) & run_pids
        if found:
            raise _refuse(request, "pid_in_payload",
                          f"column {name} carries {len(found)} pseudonymous id(s)")
